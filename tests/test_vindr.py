import numpy as np
import pytest
from conftest import FORMS, in_form, read_all

from spinebench_hf.construction.standardize import standardize_all
from spinebench_hf.errors import SourceFormatError
from spinebench_hf.sources import VindrReader
from spinebench_hf.sources.records import (
    AMBIGUOUS_LABEL,
    CORRUPT_IMAGE,
    DROPPED_LABEL,
    MISSING_IMAGE,
    ORPHAN_IMAGE,
    UNKNOWN_LABEL,
)
from spinebench_hf.sources.scan import scan
from spinebench_hf.sources.synthetic import VindrImage, write_vindr


def hexid(n: int) -> str:
    return f"{n:032x}"


IMAGES = [
    VindrImage(hexid(1), lesions=("Osteophytes", "Disc space narrowing", "Osteophytes")),
    VindrImage(hexid(2), lesions=("No finding",)),  # NaN boxes
    VindrImage(hexid(3), lesions=("Spondylolysthesis",), photometric="MONOCHROME1"),
    VindrImage(hexid(4), lesions=("Osteophytes", "Surgical implant")),
    VindrImage(hexid(5), lesions=("Other lesions",)),
    VindrImage(hexid(6), lesions=("Fracture",)),
    VindrImage(hexid(7), lesions=("No finding", "Foraminal stenosis")),
    VindrImage(hexid(8), split="test", lesions=("Vertebral collapse",)),
    VindrImage(hexid(9), lesions=("Foraminal stenosis",), write_file=False),
]


def write_fixture(root):
    write_vindr(root, IMAGES)
    (root / "train_images" / f"{hexid(10)}.dicom").write_bytes(
        (root / "train_images" / f"{hexid(2)}.dicom").read_bytes()
    )
    return root


@pytest.mark.parametrize("form", FORMS)
def test_records_and_skips(tmp_path, cache_dir, form):
    path = in_form(write_fixture(tmp_path / "vindr"), form, wrapper="physionet.org/files/vindr-spinexr/1.0.0/")
    records, skips = read_all(VindrReader(path, cache_dir=cache_dir))

    assert {k: r.diseases for k, r in records.items()} == {
        f"train/{hexid(1)}": ("Disc space narrowing", "Osteophytes"),
        f"train/{hexid(2)}": ("Healthy",),
        f"train/{hexid(3)}": ("Spondylolisthesis",),
        f"test/{hexid(8)}": ("Vertebral collapse",),
    }
    assert all(r.modality == "X-ray" and r.findings == () for r in records.values())
    assert {k: s.kind for k, s in skips.items()} == {
        f"train/{hexid(4)}": DROPPED_LABEL,
        f"train/{hexid(5)}": DROPPED_LABEL,
        f"train/{hexid(6)}": UNKNOWN_LABEL,
        f"train/{hexid(7)}": AMBIGUOUS_LABEL,
        f"train/{hexid(9)}": MISSING_IMAGE,
        f"train/{hexid(10)}": ORPHAN_IMAGE,
    }
    assert "carries ['Surgical implant']" in skips[f"train/{hexid(4)}"].reason
    assert "unknown lesion_type ['Fracture'] in annotations/train.csv" in skips[f"train/{hexid(6)}"].reason
    assert (
        f"train_images/{hexid(9)}.dicom: image named in annotations/train.csv not found"
        in skips[f"train/{hexid(9)}"].reason
    )


def test_monochrome1_renders_like_monochrome2(tmp_path):
    """A drawing stored inverted as MONOCHROME1 comes out with bright bone, like its MONOCHROME2 twin."""
    write_vindr(
        tmp_path,
        [
            VindrImage(hexid(1), lesions=("Osteophytes",)),
            VindrImage(hexid(2), lesions=("Osteophytes",), photometric="MONOCHROME1"),
        ],
    )
    records, _ = read_all(VindrReader(tmp_path))
    mono2, mono1 = (np.asarray(records[f"train/{hexid(i)}"].image.load().image, dtype=int) for i in (1, 2))
    assert mono2.shape == mono1.shape == (100, 80, 3)
    # the two files hold different noise, so compare what matters: vertebrae (bone) bright, background dark
    centre, edge = (slice(5, 95), slice(35, 45)), (slice(5, 95), slice(0, 5))
    for image in (mono1, mono2):
        assert image[centre].mean() > image[edge].mean() + 60


def test_truncated_dicom_is_a_recorded_skip(tmp_path, cache_dir):
    write_vindr(tmp_path, IMAGES[:3])
    dicom = tmp_path / "train_images" / f"{hexid(1)}.dicom"
    dicom.write_bytes(dicom.read_bytes()[:2000])
    report = standardize_all(scan({"vindr": tmp_path}), cache_dir / "images", max_side=64)
    assert sorted(r.key for r in report.records) == [f"train/{hexid(2)}", f"train/{hexid(3)}"]
    (skip,) = [s for s in report.skips if s.kind == CORRUPT_IMAGE]
    assert skip.key == f"train/{hexid(1)}" and skip.reason.startswith(str(dicom) + ":")


def test_not_a_vindr_folder(tmp_path):
    (tmp_path / "LA").mkdir()
    (tmp_path / "LA" / "0001-F-045Y1.jpg").write_bytes(b"")
    with pytest.raises(
        SourceFormatError, match=r"(?s)not a VinDr-SpineXR source: no 'annotations/train.csv'.*\.dicom"
    ):
        VindrReader(tmp_path)
