"""`spinebench import-release`: small releases in the known shape, every variant of it, and broken ones."""

import json
import shutil

import datasets
import pytest

from spinebench_hf.cli import main
from spinebench_hf.construction.push import PushRefused, push
from spinebench_hf.construction.release_import import import_release
from spinebench_hf.labels import LEVELS
from spinebench_hf.sources.release import ReleaseFormatError, options_in_text
from spinebench_hf.sources.synthetic import write_release

DIAG = "spine_disease_classification"
LOC = "spine_lesion_localization"
OPTIONS = ["Osteophytes", "Healthy", "Vertebral collapse", "Disc space narrowing", "Foraminal stenosis"]


def diagnosis(image, answer, **shape):
    record = {
        "image": image,
        "question": "What spinal disease does this patient have?",
        "task": DIAG,
        "answers": answer,
    }
    return record | (shape or {"options": OPTIONS})


def release_files():
    """evaluation/test.json and all/train_split.json + all/val_split.json, with every variant the release may have."""
    evaluation = [
        diagnosis("11.jpg", "osteophytes"),  # label casing differs from the canonical name
        diagnosis("12.jpg", ["Healthy"]),  # a one-element list
        {
            "image_path": "sub/13.jpg",
            "query": "What is the site of the spinal canal stenosis?",
            "task": LOC,
            "answer": ["l4/l5", "L3/L4"],
        },  # image_path, query, answer; no options: the five levels
        diagnosis("14.jpg", "Vertebral Collapse", choices=["vertebral collapse", "Healthy", "Osteophytes"]),
        diagnosis("15.jpg", "Healthy", A="Spondylolisthesis", B="healthy", C="Osteophytes", D="Foraminal Stenosis"),
        {
            "image": "16.jpg",
            "task": DIAG,
            "answers": "cervical Lordosis",
            "question": "Which disorder is shown? Options: A: Cervical kyphosis, B: Cervical Lordosis, C: Healthy",
        },
        diagnosis("17.jpg", "Healthy", option_A="Osteophytes", option_B="Healthy"),
        diagnosis("18.jpg", "Osteophytes", candidates={"A": "Healthy", "B": "Osteophytes"}),
        {"image": "16.jpg", "task": LOC, "answers": ["L5/S1"], "question": "Where is the lesion? (A) L1/L2 (B) L5/S1"},
    ]
    train = [
        diagnosis("21.jpg", "Disc space narrowing"),
        diagnosis("11.jpg", "osteophytes"),  # the same question as in evaluation/: counted once, there
    ]
    val = [
        diagnosis("31.jpg", "Spinal Canal Stenosis", options=OPTIONS[:4] + ["Spinal canal stenosis"]),
    ]
    return {"evaluation/test.json": evaluation, "all/train_split.json": train, "all/val_split.json": val}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    write_release(root / "release", release_files())
    (root / "release" / "all" / "21.jpg").unlink()  # an image found relative to the release root instead
    shutil.copy(root / "release" / "evaluation" / "11.jpg", root / "release" / "21.jpg")
    report = import_release(root / "release", root / "out")
    return root, report


def rows(root, config, split):
    return datasets.load_dataset(str(root / "out"), config, split=split)


def test_every_variant_imports_with_letters_against_texts(imported):
    root, report = imported
    assert report["skipped"] == {"duplicate-record": 1}
    sub = {row["image_id"]: row for row in rows(root, "diagnosis", "sub")}
    assert len(sub) == 7 and len(rows(root, "diagnosis", "full")) == 9
    expected = {  # image -> (options in the release's order, answer letters)
        "release/evaluation/11.jpg": (OPTIONS, ["A"]),
        "release/evaluation/12.jpg": (OPTIONS, ["B"]),
        "release/evaluation/14.jpg": (["vertebral collapse", "Healthy", "Osteophytes"], ["A"]),  # the release's text
        "release/evaluation/15.jpg": (["Spondylolisthesis", "healthy", "Osteophytes", "Foraminal Stenosis"], ["B"]),
        "release/evaluation/16.jpg": (["Cervical kyphosis", "Cervical Lordosis", "Healthy"], ["B"]),
        "release/evaluation/17.jpg": (["Osteophytes", "Healthy"], ["B"]),
        "release/evaluation/18.jpg": (["Healthy", "Osteophytes"], ["B"]),
    }
    for image_id, (options, answer) in expected.items():
        row = sub[image_id]
        assert (row["options"], row["answer"]) == (options, answer)
        assert row["answer_text"] == [options["ABCDE".index(a)] for a in answer]
    names = rows(root, "diagnosis", "sub").features["source"].names
    assert {names[r["source"]] for r in sub.values()} == {"unknown"} and sub["release/evaluation/16.jpg"][
        "modality"
    ] == "unknown"
    assert sub["release/evaluation/16.jpg"]["question"] == "Which disorder is shown?"  # the options taken out of it


def test_localization_without_options_gets_the_five_levels(imported):
    root, _ = imported
    located = {row["image_id"]: row for row in rows(root, "localization", "sub")}
    five = located["release/evaluation/sub/13.jpg"]
    assert five["options"] == list(LEVELS) and five["answer"] == ["C", "D"] and five["levels"] == ["L3/L4", "L4/L5"]
    names = rows(root, "localization", "sub").features["disease"].names
    assert names[five["disease"]] == "Spinal canal stenosis"  # the condition its question names
    two = located["release/evaluation/16.jpg"]
    assert two["options"] == ["L1/L2", "L5/S1"] and two["answer"] == ["B"] and two["disease"] == -1  # names none


def test_images_are_kept_as_published(imported):
    root, _ = imported
    table = rows(root, "diagnosis", "full").cast_column("image", datasets.Image(decode=False))
    for row in table:
        relative = row["image_id"].removeprefix("release/")
        published = root / "release" / relative
        assert row["image"]["bytes"] == published.read_bytes()  # the JPEG bytes, not a re-encoded PNG


def test_ids_are_stable_and_the_report_counts_every_record(imported, tmp_path):
    root, report = imported
    moved = tmp_path / "elsewhere"
    shutil.copytree(root / "release", moved)
    again = import_release(moved, tmp_path / "out")
    assert (
        again["fingerprint"] == report["fingerprint"] and again["release_fingerprint"] == report["release_fingerprint"]
    )
    records = sum(len(records) for records in release_files().values())
    used = sum(sum(tasks.values()) for tasks in report["used"].values())
    assert used + sum(report["skipped"].values()) == records
    assert report["paper_sub"] == {
        "diagnosis": {"release": 7, "paper": 1758},
        "localization": {"release": 2, "paper": 1000},
    }
    (skip,) = report["skips"]
    assert skip["key"] == "all/train_split.json#2" and skip["kind"] == "duplicate-record"
    card = (root / "out" / "README.md").read_text()
    assert (
        report["release_fingerprint"] in card
        and "diagnosis: full 9, sub 7, train 1 questions (the paper's Sub: 1758)" in card
    )


def broken(tmp_path, records, name="evaluation/test.json"):
    return write_release(tmp_path / "release", {name: records})


@pytest.mark.parametrize(
    "record, kind, reason",
    [
        (
            diagnosis("1.jpg", "Osteophytes") | {"task": "spine_grading"},
            "unknown-task",
            "task 'spine_grading' is not one of",
        ),
        (diagnosis("1.jpg", "Scoliosis"), "answer-not-an-option", "answer 'Scoliosis' is not among the options"),
        (diagnosis("1.jpg", "Healthy", options=["Healthy", "Scoliosis"]), "unknown-label", "option(s) ['Scoliosis']"),
        (diagnosis("1.jpg", ["Healthy", "Osteophytes"]), "answer-not-an-option", "a diagnosis needs one answer"),
        ({"image": "1.jpg", "task": DIAG}, "bad-record", "needs question/query, answers/answer and image/image_path"),
        (diagnosis("../1.jpg", "Healthy"), "unsafe-member", "leaves the release folder"),
    ],
)
def test_each_skip_has_its_reason(tmp_path, record, kind, reason):
    good = diagnosis("2.jpg", "Healthy")
    release = broken(tmp_path, [record, good])
    report = import_release(release, tmp_path / "out")
    (skip,) = report["skips"]
    assert (skip["key"], skip["kind"]) == ("evaluation/test.json#1", kind) and reason in skip["reason"]


def test_a_missing_image_is_skipped(tmp_path):
    release = broken(tmp_path, [diagnosis("1.jpg", "Healthy"), diagnosis("2.jpg", "Healthy")])
    (release / "evaluation" / "1.jpg").unlink()
    (skip,) = import_release(release, tmp_path / "out")["skips"]
    assert (
        skip["kind"] == "missing-image"
        and "'1.jpg' found neither beside evaluation/test.json nor in" in skip["reason"]
    )


def test_a_diagnosis_without_options_stops_the_import(tmp_path):
    release = broken(tmp_path, [{"image": "1.jpg", "question": "Which disease?", "task": DIAG, "answers": "Healthy"}])
    with pytest.raises(
        ReleaseFormatError,
        match=r"evaluation/test\.json, record 1: a diagnosis question without "
        r"options.*the record has \['answers', 'image', 'question', 'task'\]",
    ):
        import_release(release, tmp_path / "out")


def test_malformed_json_names_the_file_and_position(tmp_path, capsys):
    release = broken(tmp_path, [diagnosis("1.jpg", "Healthy")])
    (release / "evaluation" / "test.json").write_text('[{"image": "1.jpg",\n  "task": }]')
    assert main(["import-release", str(release), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert (
        "evaluation/test.json: not valid JSON at line 2 column 11: Expecting value" in err and "Traceback" not in err
    )


def test_nothing_usable_is_an_error_not_an_empty_dataset(tmp_path):
    release = broken(tmp_path, [diagnosis("1.jpg", "Scoliosis")])
    with pytest.raises(Exception, match=r"no usable question among 1 records \(\[\('answer-not-an-option', 1\)\]\)"):
        import_release(release, tmp_path / "out")


def test_not_a_release(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(Exception, match="not the SpineBench release: expected evaluation/test.json and all/"):
        import_release(tmp_path / "x", tmp_path / "out")


def test_public_push_of_a_release_is_refused(imported):
    root, _ = imported
    with pytest.raises(PushRefused, match="the authors' SpineBench release"):
        push(root / "out", "someone/spinebench", public=True)


def test_options_written_into_the_question():
    assert options_in_text("Which one? A: Osteophytes, B: Healthy, C: Vertebral collapse") == (
        "Which one?",
        ["Osteophytes", "Healthy", "Vertebral collapse"],
    )
    assert options_in_text("The candidate Options are: [A: L1/L2, B: L2/L3]") == ("", ["L1/L2", "L2/L3"])
    assert options_in_text("Where? (A) L1/L2 (B) L5/S1") == ("Where?", ["L1/L2", "L5/S1"])
    assert options_in_text("What is the disease in vitamin D: deficiency?") is None  # no A.. sequence


def test_the_cli_prints_the_counts_beside_the_paper(imported, tmp_path, capsys):
    root, _ = imported
    assert main(["import-release", str(root / "release"), "--output", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert (
        "diagnosis: full 9, sub 7" in out
        and "the release's evaluation/ holds 7 questions, the paper's Sub 1758" in out
    )
    assert json.loads((tmp_path / "cli" / "import_report.json").read_text())["skipped"] == {"duplicate-record": 1}


def test_circular_rotations_are_written_for_an_imported_release(imported):
    from spinebench_hf.evaluation.variants import write_rotations

    root, report = imported
    rotated = datasets.load_dataset(str(write_rotations(root / "out")), "diagnosis", split="sub")
    assert len(rotated) == sum(len(row["options"]) for row in rows(root, "diagnosis", "sub"))
