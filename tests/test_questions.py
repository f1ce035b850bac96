import numpy as np
import pytest

from spinebench_hf.construction.questions import (
    DIAGNOSIS_QUESTIONS,
    LETTERS,
    LOCALIZATION_QUESTIONS,
    diagnosis_item,
    localization_items,
)
from spinebench_hf.construction.subset import balanced_quotas, select_sub, sub_group
from spinebench_hf.labels import DISEASES, LEVELS
from spinebench_hf.sources.records import ImageRef, LevelFinding, Record

SIMILARITY = np.array([0.966, 0.939, 0.867, 0.964, 0.892, 0.973, 0.940, 0.969, 0.937, 0.944, 0.940])


def record(key, diseases, source="vindr", view="lateral", findings=()):
    return Record(
        source, key, "p1", "s1", "X-ray", view, tuple(diseases), tuple(findings), ImageRef(None, key, "dicom")
    )


def test_diagnosis_item_follows_the_option_rules():
    item = diagnosis_item(record("a", ["Spondylolisthesis"]), SIMILARITY, seed=0)
    assert item.id == "vindr/a/diagnosis" and item.task == "diagnosis" and item.question in DIAGNOSIS_QUESTIONS
    assert sorted(item.options) == sorted(
        ["Spondylolisthesis", "Healthy", "Vertebral collapse", "Disc space narrowing", "Osteophytes"]
    )
    assert len(item.answer) == 1 and item.options[LETTERS.index(item.answer[0])] == "Spondylolisthesis"
    assert item.answer_text == ("Spondylolisthesis",) and item.disease == "Spondylolisthesis" and item.levels == ()
    similarity = dict(zip(item.options, item.option_similarity))
    assert similarity["Healthy"] is None and similarity["Vertebral collapse"] == pytest.approx(0.969)


def test_healthy_image_gets_four_diseases():
    item = diagnosis_item(record("h", ["Healthy"]), SIMILARITY, seed=0)
    assert sorted(item.options) == sorted(
        ["Healthy", "Spondylolisthesis", "Vertebral collapse", "Disc space narrowing", "Osteophytes"]
    )
    assert item.answer_text == ("Healthy",)


def test_multi_label_image_answer_is_one_and_the_others_are_not_options():
    items = [
        diagnosis_item(record(f"m{i}", ["Disc space narrowing", "Osteophytes"]), SIMILARITY, 0) for i in range(30)
    ]
    for item in items:
        assert item.disease in ("Disc space narrowing", "Osteophytes")
        other = ({"Disc space narrowing", "Osteophytes"} - {item.disease}).pop()
        assert other not in item.options and "Healthy" in item.options and len(set(item.options)) == 5
    assert {item.disease for item in items} == {"Disc space narrowing", "Osteophytes"}  # drawn per image


def test_letters_are_shuffled_per_item_and_reproducible():
    answers = [diagnosis_item(record(f"k{i}", ["Osteophytes"]), SIMILARITY, 0).answer[0] for i in range(60)]
    assert set(answers) == set(LETTERS)
    again = [diagnosis_item(record(f"k{i}", ["Osteophytes"]), SIMILARITY, 0).answer[0] for i in range(60)]
    assert answers == again
    other_seed = [diagnosis_item(record(f"k{i}", ["Osteophytes"]), SIMILARITY, 1).answer[0] for i in range(60)]
    assert answers != other_seed


def test_localization_items():
    finding = LevelFinding("Foraminal stenosis", "left", ("L4/L5", "L5/S1"))
    (item,) = localization_items(record("r", ["Healthy"], "rsna", "Sagittal T1", [finding]), seed=0)
    assert item.id == "rsna/r/localization/foraminal-stenosis-left" and item.question in LOCALIZATION_QUESTIONS
    assert sorted(item.options) == list(LEVELS) and item.option_similarity == ()
    assert [item.options[LETTERS.index(a)] for a in item.answer] == list(item.answer_text)
    assert sorted(item.answer_text) == ["L4/L5", "L5/S1"] and list(item.answer) == sorted(item.answer)
    assert item.levels == ("L4/L5", "L5/S1") and item.disease == "Foraminal stenosis"
    ap = record("b", ["Spondylolisthesis"], "buu", "AP", [LevelFinding("Spondylolisthesis", None, ("L4/L5",))])
    assert localization_items(ap, seed=0) == []  # BUU localization uses lateral images only


def test_quotas_are_water_filled():
    assert balanced_quotas({"a": 100, "b": 100, "c": 100}, 90) == {"a": 30, "b": 30, "c": 30}
    assert balanced_quotas({"a": 5, "b": 100, "c": 100}, 90) == {"a": 5, "b": 42, "c": 43}
    assert balanced_quotas({"a": 5, "b": 6}, 90) == {"a": 5, "b": 6}
    assert sum(balanced_quotas({i: 1000 for i in range(12)}, 1758).values()) == 1758


def test_sub_selection_is_balanced_and_stable():
    items = [diagnosis_item(record(f"x{i}", [DISEASES[i % 3]]), SIMILARITY, 0) for i in range(300)]
    chosen = select_sub(items, 30, sub_group, seed=0)
    by_disease = {d: sum(1 for item in items if item.id in chosen and item.disease == d) for d in DISEASES[:3]}
    assert by_disease == {DISEASES[0]: 10, DISEASES[1]: 10, DISEASES[2]: 10}
    assert chosen == select_sub(list(reversed(items)), 30, sub_group, seed=0)
    assert chosen != select_sub(items, 30, sub_group, seed=1)
