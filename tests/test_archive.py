import io
import tarfile
import zipfile

import pytest
from conftest import read_all

from spinebench_hf.errors import ImageError, SourceFormatError
from spinebench_hf.sources import BuuReader
from spinebench_hf.sources.archive import open_tree
from spinebench_hf.sources.records import UNSAFE_MEMBER
from spinebench_hf.sources.synthetic import BuuCase, pack, write_buu


def buu_members(tmp_path):
    folder = write_buu(tmp_path / "src", [BuuCase(1)])
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_zip_with_unsafe_members_is_read_in_place(tmp_path):
    archive = tmp_path / "work" / "buu.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as out:
        for name, data in buu_members(tmp_path).items():
            out.writestr(name, data)
        out.writestr("../escaped.txt", b"x")
        out.writestr("/abs/escaped.txt", b"x")
    records, skips = read_all(BuuReader(archive))
    assert sorted(records) == ["AP/0001-F-045Y0", "LA/0001-F-045Y1"]
    assert {k: s.kind for k, s in skips.items()} == {
        "../escaped.txt": UNSAFE_MEMBER,
        "/abs/escaped.txt": UNSAFE_MEMBER,
    }
    assert "points outside the archive ('..'); it was not extracted" in skips["../escaped.txt"].reason
    assert "has an absolute path" in skips["/abs/escaped.txt"].reason
    assert not (tmp_path / "escaped.txt").exists() and not list(tmp_path.rglob("escaped.txt"))


def add(tar, name, data=b"x", **attrs):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))


def test_tar_extraction_never_writes_outside(tmp_path, cache_dir):
    archive = tmp_path / "work" / "buu.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in buu_members(tmp_path).items():
            add(tar, "BUU/" + name, data)
        add(tar, "../../escaped.txt")
        add(tar, "/abs/escaped-abs.txt")
        add(tar, "BUU/link.jpg", b"", type=tarfile.SYMTYPE, linkname="/etc/passwd")
    records, skips = read_all(BuuReader(archive, cache_dir=cache_dir))
    assert sorted(records) == ["AP/0001-F-045Y0", "LA/0001-F-045Y1"]
    assert {k: s.kind for k, s in skips.items()} == {
        "../../escaped.txt": UNSAFE_MEMBER,
        "/abs/escaped-abs.txt": UNSAFE_MEMBER,
        "BUU/link.jpg": UNSAFE_MEMBER,
    }
    assert "is a link or device" in skips["BUU/link.jpg"].reason
    assert not list(tmp_path.rglob("escaped*.txt")) and not list(cache_dir.rglob("link.jpg"))
    # a second open reuses the extraction and still reports the rejected members
    assert set(read_all(BuuReader(archive, cache_dir=cache_dir))[1]) == set(skips)


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_truncated_archive_is_a_clear_error(tmp_path, cache_dir, suffix):
    folder = write_buu(tmp_path / "src", [BuuCase(1), BuuCase(2)])
    archive = pack(folder, tmp_path / f"buu{suffix}")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(SourceFormatError, match=rf"buu{suffix}: not a readable .* archive \(truncated or damaged\?\)"):
        BuuReader(archive, cache_dir=cache_dir)


def test_damaged_member_is_an_image_error_naming_it(tmp_path):
    archive = tmp_path / "buu.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        for name, data in buu_members(tmp_path).items():
            out.writestr(name, data)
    data = bytearray(archive.read_bytes())
    offset = data.index(b"\xff\xd8", data.index(b"AP/0001-F-045Y0.jpg"))  # that member's stored JPEG
    data[offset + 200 : offset + 260] = bytes(60)  # the zip's CRC no longer matches
    archive.write_bytes(bytes(data))
    records, _ = read_all(BuuReader(archive))
    with pytest.raises(ImageError, match=r"buu.zip!AP/0001-F-045Y0.jpg: cannot read the file: Bad CRC-32"):
        records["AP/0001-F-045Y0"].image.load()


def test_plain_file_is_not_a_source(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SourceFormatError, match=r"notes.txt: expected a folder or an archive ending in .zip, .tar"):
        open_tree(tmp_path / "notes.txt")
    with pytest.raises(SourceFormatError, match="no such file or folder"):
        open_tree(tmp_path / "missing")
