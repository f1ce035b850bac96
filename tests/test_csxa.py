import pytest
from conftest import FORMS, in_form, read_all

from spinebench_hf.errors import SourceFormatError
from spinebench_hf.sources import CsxaReader
from spinebench_hf.sources.records import (
    AMBIGUOUS_LABEL,
    BAD_ANNOTATION,
    DUPLICATE_LANDMARK,
    MISSING_IMAGE,
    MISSING_ROW,
    ORPHAN_ANNOTATION,
    ORPHAN_IMAGE,
    UNKNOWN_LABEL,
)
from spinebench_hf.sources.synthetic import CSXA_LANDMARKS, CsxaCase, write_csxa, write_csxa_workbook

EXPECTED_RECORDS = {
    "0001035": "Cervical lordosis",
    "0002149": "Straight cervical vertebrae",
    "0003061": "Sigmoid cervical vertebrae",
    "0004052": "Sigmoid cervical vertebrae",
    "0005070": "Cervical kyphosis",
}
EXPECTED_SKIPS = {
    "0006040": UNKNOWN_LABEL,  # curvature "n/a"
    "2548130": DUPLICATE_LANDMARK,  # the real quirk: C3 top right twice
    "0008033": MISSING_ROW,  # image whose case has no workbook row
    "datasets.xlsx:Number=0009": MISSING_IMAGE,  # workbook row without image (4,999 rows, 4,963 images)
    "0010044": AMBIGUOUS_LABEL,  # case 10 appears in two workbook rows
    "0011050": ORPHAN_IMAGE,  # PNG without JSON
    "0012050": ORPHAN_ANNOTATION,  # JSON without PNG
    "0013050": BAD_ANNOTATION,  # JSON that is not LabelMe
    "datasets.xlsx:row 16": BAD_ANNOTATION,  # Number that is not a number
}


def write_fixture(root, zipped=False):
    cases = [
        CsxaCase(1, 1),
        CsxaCase(2, 2, "149"),
        CsxaCase(3, 3, "061"),
        CsxaCase(4, 4, "052"),
        CsxaCase(5, 5.0, "070"),
        CsxaCase(6, "n/a", "040"),
        CsxaCase(2548, 1, "130", landmarks=CSXA_LANDMARKS[:5] + ["C3 top right"] + CSXA_LANDMARKS[5:]),
        CsxaCase(8, 2, "033", in_workbook=False),
        CsxaCase(10, 3, "044"),
        CsxaCase(11, 1, "050"),
        CsxaCase(12, 1, "050"),
        CsxaCase(13, 1, "050"),
    ]
    write_csxa(root, cases, extra_rows=[(9, 1), (10, 4), ("abc", 2)])
    (root / "datasets-JSON" / "0011050.json").unlink()
    (root / "datasets-PNG" / "0012050.png").unlink()
    (root / "datasets-JSON" / "0013050.json").write_text('{"not": "labelme"}')
    if zipped:  # as downloaded: the workbook beside datasets-PNG.zip and datasets-JSON.zip
        import shutil

        from spinebench_hf.sources.synthetic import write_zip

        for folder in ("datasets-PNG", "datasets-JSON"):
            members = {f"{folder}/{p.name}": p.read_bytes() for p in sorted((root / folder).iterdir())}
            write_zip(root / f"{folder}.zip", members)
            shutil.rmtree(root / folder)
    return root


@pytest.mark.parametrize("form", FORMS + ["download-zips"])
def test_records_and_skips(tmp_path, cache_dir, form):
    root = write_fixture(tmp_path / "csxa", zipped=form == "download-zips")
    path = root if form == "download-zips" else in_form(root, form)
    records, skips = read_all(CsxaReader(path, cache_dir=cache_dir))

    assert {k: r.diseases for k, r in records.items()} == {k: (v,) for k, v in EXPECTED_RECORDS.items()}
    assert all(r.patient_id == k[:4] and r.view == "lateral" and r.modality == "X-ray" for k, r in records.items())
    assert {k: s.kind for k, s in skips.items()} == EXPECTED_SKIPS
    assert "landmark 'c3 top right' appears more than once" in skips["2548130"].reason
    assert skips["2548130"].reason.split(":")[0].endswith("2548130.json")
    assert "curvature 'n/a' is not one of 1-5" in skips["0006040"].reason
    assert "no row with Number=0008 in datasets.xlsx" in skips["0008033"].reason
    assert "case Number=0010 appears in more than one workbook row" in skips["0010044"].reason
    assert "Number 'abc' is not a case number" in skips["datasets.xlsx:row 16"].reason
    image = records["0003061"].image.load().image
    assert image.mode == "RGB" and image.size == (64, 80)


def test_workbook_without_curvature_column(tmp_path):
    write_csxa(tmp_path, [CsxaCase(1, 1)])
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "datasets.xlsx")
    book.active["F2"] = "Shape"
    book.save(tmp_path / "datasets.xlsx")
    with pytest.raises(
        SourceFormatError, match=r"datasets.xlsx: no column starting with 'Curvature'; found \['Number'"
    ):
        list(CsxaReader(tmp_path).read())


def test_workbook_that_is_not_a_workbook(tmp_path):
    write_csxa(tmp_path, [CsxaCase(1, 1)])
    (tmp_path / "datasets.xlsx").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(SourceFormatError, match="datasets.xlsx: cannot be read as a table"):
        list(CsxaReader(tmp_path).read())


def test_header_on_second_row(tmp_path):
    write_csxa_workbook(tmp_path / "datasets.xlsx", [(7, 5)])
    import pandas as pd

    frame = pd.read_excel(tmp_path / "datasets.xlsx", sheet_name="Sheet1", header=1)
    assert list(frame.columns[:1]) == ["Number"] and frame.columns[5].startswith("Curvature: 1.Lordotic")


def test_not_a_csxa_folder(tmp_path):
    (tmp_path / "datasets-PNG").mkdir()
    with pytest.raises(SourceFormatError, match=r"(?s)is not a CSXA .*no 'datasets.xlsx' found at any depth"):
        CsxaReader(tmp_path)
