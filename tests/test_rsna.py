import pytest
from conftest import FORMS, in_form, read_all

from spinebench_hf.errors import SourceFormatError
from spinebench_hf.sources import RsnaReader
from spinebench_hf.sources.records import (
    BAD_ANNOTATION,
    MISSING_IMAGE,
    MISSING_ROW,
    MISSING_SEVERITY,
    UNKNOWN_LABEL,
    LevelFinding,
)
from spinebench_hf.sources.synthetic import RsnaSeries, RsnaStudy, write_rsna

LEVELS5 = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
SCS, LNFN, RNFN = "Spinal Canal Stenosis", "Left Neural Foraminal Narrowing", "Right Neural Foraminal Narrowing"
LSS, RSS = "Left Subarticular Stenosis", "Right Subarticular Stenosis"


def study_1001():
    series = [
        RsnaSeries(11, "Sagittal T1", (3, 5, 12)),
        RsnaSeries(12, "Sagittal T2/STIR", (4, 9, 10)),
        RsnaSeries(13, "Axial T2", (2, 7)),
    ]
    coordinates = [(12, 9, SCS, lv) for lv in LEVELS5] + [
        (11, 5, LNFN, "L4/L5"),
        (11, 12, RNFN, "L5/S1"),
        (13, 7, LSS, "L4/L5"),
        (13, 7, RSS, "L4/L5"),
        (11, 99, LNFN, "L3/L4"),
    ]  # instance 99 is not in the archive
    grades = {
        "spinal_canal_stenosis_l3_l4": "Moderate",
        "spinal_canal_stenosis_l4_l5": "Severe",
        "left_neural_foraminal_narrowing_l5_s1": "Moderate",
        "left_subarticular_stenosis_l4_l5": "Severe",
        "right_subarticular_stenosis_l4_l5": None,
    }
    return RsnaStudy(1001, series, coordinates, grades)


def write_fixture(root):
    study_b = RsnaStudy(
        1002,
        [RsnaSeries(21, "Sagittal T2/STIR", (4,))],
        [(21, 4, SCS, lv) for lv in LEVELS5],
        {"spinal_canal_stenosis_l2_l3": None},
    )
    study_c = RsnaStudy(
        1003,
        [RsnaSeries(31, "Sagittal T2/STIR", (1,))],
        [(31, 1, SCS, "L1/L2")],
        {"spinal_canal_stenosis_l1_l2": "Moderate", "spinal_canal_stenosis_l5_s1": None},
    )
    write_rsna(root, [study_1001(), study_b, study_c])
    with open(root / "train_label_coordinates.csv", "a") as table:
        table.write("1001,11,3,Left Neural Foraminal Stenosis,L4/L5,1.0,2.0\n")  # row 18: unknown condition
        table.write("1001,11,3,Left Neural Foraminal Narrowing,L6/S1,1.0,2.0\n")  # row 19: unknown level
        table.write("1001,11,abc,Spinal Canal Stenosis,L1/L2,1.0,2.0\n")  # row 20: instance not a number
        table.write("1004,41,1,Spinal Canal Stenosis,L1/L2,1.0,2.0\n")  # study 1004 has no train.csv row
        table.write("1001,14,1,Spinal Canal Stenosis,L1/L2,1.0,2.0\n")  # series 14 is not described
    return root


@pytest.mark.parametrize("form", FORMS)
def test_records_and_skips(tmp_path, cache_dir, form):
    records, skips = read_all(RsnaReader(in_form(write_fixture(tmp_path / "rsna"), form), cache_dir=cache_dir))

    assert [(k, r.view, r.diseases, r.findings) for k, r in records.items()] == [
        ("1001/11/5", "Sagittal T1", ("Healthy",), ()),  # its own left level L4/L5 is Normal/Mild: one truth
        ("1001/11/12", "Sagittal T1", ("Healthy",), ()),  # no right foraminal level is positive
        (
            "1001/12/9",
            "Sagittal T2/STIR",
            ("Spinal canal stenosis",),
            (LevelFinding("Spinal canal stenosis", None, ("L3/L4", "L4/L5")),),
        ),
        ("1001/13/7", "Axial T2", ("Subarticular stenosis",), ()),  # axial: no localization
        ("1003/31/1", "Sagittal T2/STIR", ("Spinal canal stenosis",), ()),
    ]  # instance numbers sort as integers: 5 before 12
    assert all(r.modality == "MRI" and r.patient_id == r.study_id == k.split("/")[0] for k, r in records.items())
    assert {k: s.kind for k, s in skips.items()} == {
        "1001/11/99": MISSING_IMAGE,
        "1002/21/4": MISSING_SEVERITY,  # every annotated grade Normal/Mild except a missing one: not Healthy
        "1003/31/1#spinal_canal_stenosis": MISSING_SEVERITY,  # the localization answer would be unknown
        "train_label_coordinates.csv:row 18": UNKNOWN_LABEL,
        "train_label_coordinates.csv:row 19": UNKNOWN_LABEL,
        "train_label_coordinates.csv:row 20": BAD_ANNOTATION,
        "1004/41/1": MISSING_ROW,
        "1001/14/1": MISSING_ROW,
    }
    assert "unknown condition 'Left Neural Foraminal Stenosis'" in skips["train_label_coordinates.csv:row 18"].reason
    assert "unknown level 'L6/S1'" in skips["train_label_coordinates.csv:row 19"].reason
    assert "spinal_canal_stenosis_l2_l3=''" in skips["1002/21/4"].reason
    assert "train_images/1001/11/99.dcm: annotated slice not found" in skips["1001/11/99"].reason
    image = records["1001/12/9"].image.load().image
    assert image.mode == "RGB" and image.size == (48, 48)


def test_one_truth_per_slice_when_a_condition_is_spread_over_slices(tmp_path):
    """As in real RSNA rows (study 4003253): the levels of one condition and side are annotated on different
    slices. A slice is asked where the lesion is only if a level annotated on that slice is positive; the answer
    is every positive level of the study."""
    series = [RsnaSeries(51, "Sagittal T1", (6, 7, 8, 9))]
    coordinates = [
        (51, 6, RNFN, "L1/L2"),
        (51, 6, RNFN, "L2/L3"),
        (51, 7, RNFN, "L3/L4"),
        (51, 8, RNFN, "L4/L5"),
        (51, 9, RNFN, "L5/S1"),
        (51, 9, LNFN, "L5/S1"),
    ]
    grades = {
        "right_neural_foraminal_narrowing_l3_l4": "Moderate",
        "right_neural_foraminal_narrowing_l4_l5": "Severe",
        "left_neural_foraminal_narrowing_l5_s1": "Moderate",
    }
    write_rsna(tmp_path, [RsnaStudy(4003253, series, coordinates, grades)])
    records, skips = read_all(RsnaReader(tmp_path))
    right = LevelFinding("Foraminal stenosis", "right", ("L3/L4", "L4/L5"))
    assert {k: (r.diseases, r.findings) for k, r in records.items()} == {
        "4003253/51/6": (("Healthy",), ()),  # L1/L2 and L2/L3 are Normal/Mild here: Healthy, never localized
        "4003253/51/7": (("Foraminal stenosis",), (right,)),
        "4003253/51/8": (("Foraminal stenosis",), (right,)),
        "4003253/51/9": (("Foraminal stenosis",), (LevelFinding("Foraminal stenosis", "left", ("L5/S1",)),)),
    } and skips == {}
    for record in records.values():  # the rule of docs/building.md on every record
        assert {finding.condition for finding in record.findings} <= set(record.diseases)


def test_missing_grade_columns(tmp_path):
    write_rsna(tmp_path, [study_1001()])
    text = (tmp_path / "train.csv").read_text().replace("spinal_canal_stenosis_l1_l2", "scs_l1_l2")
    (tmp_path / "train.csv").write_text(text)
    with pytest.raises(SourceFormatError, match=r"train.csv: missing columns \['spinal_canal_stenosis_l1_l2'\]"):
        list(RsnaReader(tmp_path).read())


def test_not_an_rsna_folder(tmp_path):
    write_rsna(tmp_path, [study_1001()])
    (tmp_path / "train_series_descriptions.csv").unlink()
    with pytest.raises(SourceFormatError, match="not 'train_series_descriptions.csv'"):
        RsnaReader(tmp_path)
