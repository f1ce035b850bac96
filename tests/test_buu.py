import pytest
from conftest import FORMS, in_form, read_all

from spinebench_hf.errors import SourceFormatError
from spinebench_hf.sources import BuuReader
from spinebench_hf.sources.buu import parse_endplates, slip_levels
from spinebench_hf.sources.records import BAD_ANNOTATION, BAD_NAME, ORPHAN_ANNOTATION, ORPHAN_IMAGE, LevelFinding
from spinebench_hf.sources.synthetic import BuuCase, endplate_rows, write_buu

LA_L4_SLIP = tuple(3 if i == 6 else 0 for i in range(11))  # code on L4a
LA_L5_S1 = tuple(1 if i in (8, 10) else 0 for i in range(11))  # L5a and S1a
AP_L1 = tuple(2 if i == 1 else 0 for i in range(10))  # L1b


def write_fixture(root):
    write_buu(
        root, [BuuCase(1), BuuCase(2, "M", 61, la_codes=LA_L4_SLIP), BuuCase(3, "F", 7, AP_L1, LA_L5_S1), BuuCase(4)]
    )
    # Kaggle-mirror strays, a short CSV, a name that is not NNNN-S-AAAYV, a non-numeric CSV
    (root / "LA" / "1665-M-014Y1(1).jpg").write_bytes((root / "LA" / "0001-F-045Y1.jpg").read_bytes())
    (root / "LA" / "1674-F-050Y1(1).csv").write_text("1,2,3,4,0\n")
    rows = endplate_rows((0,) * 9, (96, 64))
    (root / "LA" / "0004-F-045Y1.csv").write_text("\n".join(",".join(r) for r in rows) + "\n")
    (root / "AP" / "scan7.jpg").write_bytes((root / "AP" / "0001-F-045Y0.jpg").read_bytes())
    (root / "AP" / "scan7.csv").write_text((root / "AP" / "0001-F-045Y0.csv").read_text())
    (root / "AP" / "0004-F-045Y0.csv").write_text("x1,y1,x2,y2,label\n" * 10)
    return root


@pytest.mark.parametrize("form", FORMS)
def test_records_and_skips(tmp_path, cache_dir, form):
    path = in_form(write_fixture(tmp_path / "buu"), form, wrapper="BUU-LSPINE_400/BUU-LSPINE_400/")
    records, skips = read_all(BuuReader(path, cache_dir=cache_dir))

    assert {k: (r.view, r.diseases, r.findings) for k, r in records.items()} == {
        "AP/0001-F-045Y0": ("AP", ("Healthy",), ()),
        "LA/0001-F-045Y1": ("lateral", ("Healthy",), ()),
        "AP/0002-M-061Y0": ("AP", ("Healthy",), ()),
        "LA/0002-M-061Y1": ("lateral", ("Spondylolisthesis",), (LevelFinding("Spondylolisthesis", None, ("L4/L5",)),)),
        "AP/0003-F-007Y0": ("AP", ("Spondylolisthesis",), (LevelFinding("Spondylolisthesis", None, ("L1/L2",)),)),
        "LA/0003-F-007Y1": ("lateral", ("Spondylolisthesis",), (LevelFinding("Spondylolisthesis", None, ("L5/S1",)),)),
    }
    assert {r.patient_id for r in records.values()} == {"0001", "0002", "0003"}
    assert all(r.modality == "X-ray" and r.study_id == r.patient_id for r in records.values())
    assert {k: s.kind for k, s in skips.items()} == {
        "LA/1665-M-014Y1(1)": ORPHAN_IMAGE,
        "LA/1674-F-050Y1(1)": ORPHAN_ANNOTATION,
        "LA/0004-F-045Y1": BAD_ANNOTATION,
        "AP/0004-F-045Y0": BAD_ANNOTATION,
        "AP/scan7": BAD_NAME,
    }
    assert "expected 11 endplate rows (x1,y1,x2,y2,label), found 9" in skips["LA/0004-F-045Y1"].reason
    assert "row 1 is not numeric" in skips["AP/0004-F-045Y0"].reason
    assert "image without its annotation 1665-M-014Y1(1).csv" in skips["LA/1665-M-014Y1(1)"].reason
    image = records["LA/0002-M-061Y1"].image.load(max_side=48).image
    assert image.mode == "RGB" and max(image.size) == 48


def test_levels_from_endplate_rows():
    assert slip_levels([0] * 11) == ()
    assert slip_levels([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == ("L1/L2",)
    assert slip_levels([0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1]) == ("L5/S1",)
    assert slip_levels([0, 0, 1, 1, 0, 0, 0, 0, 1, 0]) == ("L2/L3", "L5/S1")


def test_endplate_csv_rules():
    assert parse_endplates(b"876.2222,167.0618,1111.472,168.7665,0\n" * 10, 10) == [0] * 10
    with pytest.raises(ValueError, match="label '0.5' is not an integer code"):
        parse_endplates(b"1,2,3,4,0.5\n" * 10, 10)
    with pytest.raises(ValueError, match="row 2 has 4 values"):
        parse_endplates(b"1,2,3,4,0\n1,2,3,4\n", 2)
    # old Mac line endings (a lone \r) are rows, not a csv error; a stray \r in a row is a clear ValueError
    assert parse_endplates(b"1,2,3,4,0\r1,2,3,4,2\r", 2) == [0, 2]
    with pytest.raises(ValueError, match="row 1 has 1 values, expected 5"):
        parse_endplates(b"\r\x00", 1)


def test_not_a_buu_folder(tmp_path):
    (tmp_path / "train_images").mkdir()
    (tmp_path / "train_images" / "x.dicom").write_bytes(b"")
    with pytest.raises(
        SourceFormatError, match=r"(?s)is not a BUU-LSPINE source: no AP/ or LA/ folder.*Expected layout"
    ):
        BuuReader(tmp_path)


def test_folders_in_lower_case_are_read(tmp_path):
    """A copy whose view folders are `ap/` and `la/` (as some unzip tools or file systems leave them) reads the same,
    instead of failing inside the reader."""
    from spinebench_hf.sources.buu import BuuReader
    from spinebench_hf.sources.synthetic import BuuCase, write_buu

    folder = write_buu(tmp_path / "buu", [BuuCase(p) for p in range(1, 4)])
    upper = {key: item.diseases for key, item in read_all(BuuReader(folder))[0].items()}
    for name in ("AP", "LA"):
        (folder / name).rename(folder / name.lower())
    lower = {key: item.diseases for key, item in read_all(BuuReader(folder))[0].items()}
    assert lower == upper and len(upper) == 6
