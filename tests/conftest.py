import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from spinebench_hf.records import Record, Skip  # noqa: E402
from spinebench_hf.synthetic import pack  # noqa: E402

FORMS = ["folder", "zip", "tar", "tar.gz"]


def in_form(folder: Path, form: str, wrapper: str = "wrap/") -> Path:
    """The source folder as the user may give it: the folder itself, or an archive with a wrapper folder."""
    if form == "folder":
        return folder
    return pack(folder, folder.parent / f"{folder.name}-archive.{form}", wrapper=wrapper)


def read_all(reader) -> tuple[dict[str, Record], dict[str, Skip]]:
    records, skips = {}, {}
    for item in reader.read():
        target = skips if isinstance(item, Skip) else records
        assert item.key not in target, f"key {item.key} yielded twice"
        target[item.key] = item
    return records, skips


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"
