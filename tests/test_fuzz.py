"""Fuzzing (hypothesis): every annotation file of every reader, and DICOM headers. Each input either gives records
and recorded skips, or the project's own clear error — never another exception, never a silent drop."""

import io
import shutil

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spinebench_hf.errors import ImageError, SourceFormatError
from spinebench_hf.imaging import load_dicom
from spinebench_hf.sources import BuuReader, CsxaReader, RsnaReader, VindrReader
from spinebench_hf.sources.records import Record, Skip
from spinebench_hf.sources.synthetic import (
    BuuCase,
    CsxaCase,
    RsnaSeries,
    RsnaStudy,
    VindrImage,
    dicom_bytes,
    write_buu,
    write_csxa,
    write_rsna,
    write_vindr,
)

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def fixtures(root):
    write_buu(root / "buu", [BuuCase(1), BuuCase(2, la_codes=(0,) * 6 + (1,) + (0,) * 4)])
    write_csxa(root / "csxa", [CsxaCase(1, 1), CsxaCase(2, 5, "044")])
    write_rsna(
        root / "rsna",
        [
            RsnaStudy(
                7,
                [RsnaSeries(71, "Sagittal T2/STIR", (1, 2))],
                [(71, 1, "Spinal Canal Stenosis", "L4/L5")],
                {"spinal_canal_stenosis_l4_l5": "Severe"},
            )
        ],
    )
    write_vindr(root / "vindr", [VindrImage(f"{n:032x}", lesions=("Osteophytes",)) for n in (1, 2)])
    return root


TARGETS = [  # (reader, source folder, annotation file to replace)
    (BuuReader, "buu", "LA/0001-F-045Y1.csv"),
    (CsxaReader, "csxa", "datasets.xlsx"),
    (CsxaReader, "csxa", "datasets-JSON/0001035.json"),
    (RsnaReader, "rsna", "train.csv"),
    (RsnaReader, "rsna", "train_label_coordinates.csv"),
    (RsnaReader, "rsna", "train_series_descriptions.csv"),
    (VindrReader, "vindr", "annotations/train.csv"),
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    return fixtures(tmp_path_factory.mktemp("fuzz"))


def contents(original: bytes):
    """Random bytes; the original cut anywhere; its text with random lines; numbers made huge or typed wrong."""
    text = original.decode("utf-8", "replace") if b"\x00" not in original[:200] else ""
    return st.one_of(
        st.binary(max_size=2000),
        st.integers(0, len(original)).map(lambda n: original[:n]),
        st.lists(st.text(max_size=80), max_size=8).map(
            lambda lines: (text + "\n".join(lines)).encode("utf-8", "replace")
        ),
        st.sampled_from(["1e308", "-1", "99999999999999999999999", "NaN", "", "abc", "1.5", "None"]).map(
            lambda value: _replace_numbers(text, value).encode()
        ),
    )


def _replace_numbers(text: str, value: str) -> str:
    import re

    return re.sub(r"\b\d+(\.\d+)?\b", value, text, count=7)


def read(reader, folder):
    try:
        items = list(reader(folder).read())
    except SourceFormatError as exc:
        assert str(exc)  # a message, naming what is wrong
        return None
    assert all(isinstance(item, (Record, Skip)) for item in items)
    assert all(item.reason for item in items if isinstance(item, Skip))
    return items


@pytest.mark.parametrize(
    "reader, source", [(BuuReader, "buu"), (CsxaReader, "csxa"), (RsnaReader, "rsna"), (VindrReader, "vindr")]
)
def test_unfuzzed_fixtures_give_records(sources, reader, source):
    """So that the fuzzing below starts from inputs that work."""
    assert any(isinstance(item, Record) for item in read(reader, sources / source))


@pytest.mark.parametrize("reader, source, member", TARGETS, ids=[f"{s}:{m}" for _, s, m in TARGETS])
def test_readers_survive_any_annotation_file(sources, tmp_path, reader, source, member):
    original = (sources / source / member).read_bytes()

    @FUZZ
    @given(data=contents(original))
    def run(data):
        folder = tmp_path / "case"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(sources / source, folder)
        (folder / member).write_bytes(data)
        read(reader, folder)

    run()


@FUZZ
@given(rows=st.integers(0, 65535), columns=st.integers(0, 65535), bits=st.sampled_from([1, 8, 12, 16, 32, 0]))
def test_dicom_headers_with_wrong_dimensions(rows, columns, bits):
    pixels = np.zeros((16, 16), dtype=np.uint16)
    ds = pydicom.dcmread(io.BytesIO(dicom_bytes(pixels, "fuzz", modality="CR")))
    ds.Rows, ds.Columns, ds.BitsStored = rows, columns, bits  # the pixel data stays 16 x 16
    out = io.BytesIO()
    ds.save_as(out)
    try:
        image = load_dicom(out.getvalue(), name="fuzz.dcm").image
    except ImageError as exc:
        assert exc.name == "fuzz.dcm" and exc.reason
    else:
        assert image.mode == "RGB"


def test_decompression_bomb_is_refused_before_decoding():
    ds = pydicom.dcmread(io.BytesIO(dicom_bytes(np.zeros((16, 16), dtype=np.uint16), "bomb", modality="CR")))
    ds.Rows = ds.Columns = 60000  # 3.6 billion pixels claimed
    out = io.BytesIO()
    ds.save_as(out)
    with pytest.raises(ImageError, match="more than the limit of 100,000,000"):
        load_dicom(out.getvalue(), name="bomb.dcm")
