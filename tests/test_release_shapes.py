"""The authors' release as it may really be: every plausible place and spelling of the options, images in zip
archives, and the leak-free `train` split (import and build)."""

import json
import shutil
import zipfile
from pathlib import Path

import datasets
import numpy as np
import pytest

from spinebench_hf.construction.release_import import import_release
from spinebench_hf.construction.train_split import (
    IN_SUB,
    NEAR_DUPLICATE,
    SAME_IMAGE,
    SAME_PATIENT,
    SAME_STUDY,
    ImageFacts,
    near_duplicates,
    train_images,
)
from spinebench_hf.prompts import build_prompt
from spinebench_hf.sources.release import options_in_text, options_of
from spinebench_hf.sources.synthetic import write_release, write_zip

DIAG, LOC = "spine_disease_classification", "spine_lesion_localization"
QUESTION = "What spinal disease does this patient have?"


# --- option shapes ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        'Options:\nA: "Healthy",\nB: "Osteophytes",\nC: "cervical Lordosis",',  # the authors' figure: quoted, commas
        "Options:\nA: \u201cHealthy\u201d,\nB: \u201cOsteophytes\u201d,\nC: \u201ccervical Lordosis\u201d,",  # curly
        "Options: A. Healthy B. Osteophytes C. cervical Lordosis",
        "Options: (A) Healthy (B) Osteophytes (C) cervical Lordosis",
        "Options: option A: 'Healthy', option B: 'Osteophytes', option C: 'cervical Lordosis'",
        "Options: [A: Healthy, B: Osteophytes, C: cervical Lordosis]",
    ],
)
def test_options_written_into_the_question_in_every_spelling(text):
    assert options_in_text(f"{QUESTION}\n{text}") == (QUESTION, ["Healthy", "Osteophytes", "cervical Lordosis"])


@pytest.mark.parametrize(
    "fields",
    [
        {"options": json.dumps(["Healthy", "Osteophytes", "cervical Lordosis"])},  # a list, JSON-encoded in a string
        {"options": json.dumps({"A": "Healthy", "B": "Osteophytes", "C": "cervical Lordosis"})},
        {"options": {"option C": "cervical Lordosis", "option A": "Healthy", "option B": "Osteophytes"}},
        {"choices": {"a": "Healthy", "b": "Osteophytes", "c": "cervical Lordosis"}},
        {"option A": "Healthy", "option B": "Osteophytes", "option C": "cervical Lordosis"},  # the authors' figure
        {"option_A": '"Healthy"', "option_B": '"Osteophytes"', "option_C": '"cervical Lordosis"'},
    ],
)
def test_options_as_fields_dicts_and_json_strings(fields):
    assert options_of(fields, QUESTION) == (QUESTION, ["Healthy", "Osteophytes", "cervical Lordosis"])


def test_a_dict_with_keys_that_are_not_letters_is_not_options():
    assert options_of({"options": {"first": "Healthy", "second": "Osteophytes"}}, QUESTION) is None


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """One release with a record in each shape, imported."""
    root = tmp_path_factory.mktemp("shapes")
    quoted = f'{QUESTION}\nA: "Healthy",\nB: "Osteophytes",\nC: "cervical Lordosis",\nD: "Spinal Canal Stenosis",'
    records = [
        {"image": "rsna/1/2/1.jpg", "question": quoted, "task": DIAG, "answers": "cervical Lordosis"},
        {
            "image": "2.jpg",
            "question": QUESTION,
            "task": DIAG,
            "answers": ["Spinal Canal Stenosis"],
            "options": json.dumps(["sigmoid cervical vertebrae", "Spinal Canal Stenosis", "Healthy"]),
        },
        {
            "image": "3.jpg",
            "question": "Where is the spinal canal stenosis?",
            "task": LOC,
            "answers": ["L2/L3", "L4/L5"],
            "option A": "L4/L5",
            "option B": "L2/L3",
            "option C": "L1/L2",
            "option D": "L5/S1",
            "option E": "L3/L4",
        },
    ]
    write_release(root / "release", {"evaluation/test.json": records})
    import_release(root / "release", root / "out")
    return root / "out"


def rows(folder, config, split="full"):
    return {row["image_id"]: row for row in datasets.load_dataset(str(folder), config, split=split)}


def test_options_keep_the_release_text_and_order_the_label_goes_to_disease(shapes):
    diagnosis = rows(shapes, "diagnosis")
    quoted = diagnosis["release/evaluation/rsna/1/2/1.jpg"]
    assert quoted["options"] == ["Healthy", "Osteophytes", "cervical Lordosis", "Spinal Canal Stenosis"]
    assert (
        quoted["question"] == QUESTION and quoted["answer"] == ["C"] and quoted["answer_text"] == ["cervical Lordosis"]
    )
    names = datasets.load_dataset(str(shapes), "diagnosis", split="full").features["disease"].names
    assert names[quoted["disease"]] == "Cervical lordosis"  # canonical, for statistics only
    assert "[A: Healthy, B: Osteophytes, C: cervical Lordosis, D: Spinal Canal Stenosis]" in build_prompt(quoted)
    encoded = diagnosis["release/evaluation/2.jpg"]
    assert encoded["options"] == ["sigmoid cervical vertebrae", "Spinal Canal Stenosis", "Healthy"]
    assert encoded["answer"] == ["B"] and names[encoded["disease"]] == "Spinal canal stenosis"
    located = rows(shapes, "localization")["release/evaluation/3.jpg"]
    assert located["options"] == ["L4/L5", "L2/L3", "L1/L2", "L5/S1", "L3/L4"]  # unsorted, as published
    assert located["answer"] == ["A", "B"] and located["levels"] == ["L2/L3", "L4/L5"]


# --- images in zip archives -------------------------------------------------------------------------------------
def zipped(release: Path, per_folder: bool) -> dict[str, bytes]:
    """Move every image of the release into zip files: one at the top (holding `evaluation/...` paths), or one per
    folder of images (`evaluation/rsna.zip` holding `1/2/1.jpg`, as a per-source archive would). Returns the images'
    bytes by their path in the release."""
    images = {p.relative_to(release).as_posix(): p.read_bytes() for p in sorted(release.rglob("*.jpg"))}
    if per_folder:
        groups: dict[Path, dict[str, bytes]] = {}
        for name, data in images.items():
            parts = name.split("/")
            archive = release / parts[0] / f"{parts[1]}.zip" if len(parts) > 2 else release / parts[0] / "images.zip"
            groups.setdefault(archive, {})["/".join(parts[2:]) if len(parts) > 2 else parts[1]] = data
        for archive, members in groups.items():
            write_zip(archive, members)
    else:
        write_zip(release / "images.zip", {f"SpineBench/{name}": data for name, data in images.items()})  # wrapped
    for name in images:
        (release / name).unlink()
    return images


@pytest.mark.parametrize("per_folder", [False, True])
def test_images_inside_zip_files_are_read_in_place_as_published(tmp_path, per_folder):
    records = [
        {
            "image": "rsna/1/2/1.jpg",
            "question": QUESTION,
            "task": DIAG,
            "answers": "Healthy",
            "options": ["Healthy", "Osteophytes"],
        },
        {
            "image": "rsna/1/2/2.jpg",
            "question": QUESTION,
            "task": DIAG,
            "answers": "Osteophytes",
            "options": ["Healthy", "Osteophytes"],
        },
    ]
    release = write_release(tmp_path / "release", {"evaluation/test.json": records})
    published = zipped(release, per_folder)
    report = import_release(release, tmp_path / "out")
    assert report["skipped"] == {}
    table = datasets.load_dataset(str(tmp_path / "out"), "diagnosis", split="sub").cast_column(
        "image", datasets.Image(decode=False)
    )
    assert sorted(row["image"]["bytes"] for row in table) == sorted(published.values())  # the bytes as published
    assert all("!" in row["image_id"] for row in table)


def test_a_zip_member_that_is_a_link_or_leaves_the_archive_is_unsafe(tmp_path):
    records = [
        {
            "image": name,
            "question": QUESTION,
            "task": DIAG,
            "answers": "Healthy",
            "options": ["Healthy", "Osteophytes"],
        }
        for name in ("good.jpg", "link.jpg", "1.jpg")
    ]
    release = write_release(tmp_path / "release", {"evaluation/test.json": records})
    good = (release / "evaluation" / "good.jpg").read_bytes()
    for name in ("good.jpg", "link.jpg", "1.jpg"):
        (release / "evaluation" / name).unlink()
    with zipfile.ZipFile(release / "evaluation" / "images.zip", "w") as out:
        out.writestr("good.jpg", good)
        link = zipfile.ZipInfo("link.jpg")
        link.external_attr = 0o120777 << 16
        out.writestr(link, "/etc/passwd")
        out.writestr("../1.jpg", good)
    report = import_release(release, tmp_path / "out")
    kinds = {skip["key"]: skip["kind"] for skip in report["skips"]}
    assert kinds == {"evaluation/test.json#2": "unsafe-member", "evaluation/test.json#3": "missing-image"}
    assert report["used"] == {"evaluation": {"diagnosis": 1}}


# --- the train split ---------------------------------------------------------------------------------------------
def test_train_rules_image_patient_study_and_near_duplicates():
    images = [
        ImageFacts("s1", "d1", "p1", "t1"),
        ImageFacts("a", "d1", "p9", "t9"),  # the same picture as s1
        ImageFacts("b", "d2", "p1", "t8"),
        ImageFacts("c", "d3", "p7", "t1"),  # s1's patient; s1's study
        ImageFacts("d", "d4", "p6", "t6"),
        ImageFacts("e", "d5", "", ""),
        ImageFacts("f", "d6", "", ""),
    ]
    kept, excluded = train_images(images, {"s1"}, near={"d"})
    assert kept == {"e", "f"}  # empty patient/study ids match nothing
    assert excluded == {IN_SUB: 1, SAME_IMAGE: 1, SAME_PATIENT: 1, SAME_STUDY: 1, NEAR_DUPLICATE: 1}


def test_near_duplicates_by_cosine():
    vectors = np.array([[1, 0, 0], [0.99, 0.141, 0], [0.9, 0.436, 0], [0, 0, 1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    found = near_duplicates(["s", "near", "far", "other"], vectors, {"s"}, block=1)
    assert set(found) == {"near"} and found["near"][0] == "s" and found["near"][1] >= 0.98


def test_an_imported_release_has_a_leak_free_train_split(tmp_path):
    def record(image, answer="Healthy"):
        return {
            "image": image,
            "question": QUESTION,
            "task": DIAG,
            "answers": answer,
            "options": ["Healthy", "Osteophytes"],
        }

    release = write_release(
        tmp_path / "release",
        {
            "evaluation/test.json": [record("1.jpg"), record("2.jpg")],
            "all/train.json": [
                record("1.jpg", "Osteophytes"),
                record("3.jpg"),
                record("4.jpg", "Osteophytes"),
                record("5.jpg"),
            ],
        },
    )
    shutil.copy(release / "evaluation" / "2.jpg", release / "all" / "4.jpg")  # the same picture under another name
    report = import_release(release, tmp_path / "out")
    train = datasets.load_dataset(str(tmp_path / "out"), "diagnosis", split="train")
    assert sorted(train["image_id"]) == ["release/all/3.jpg", "release/all/5.jpg"]
    # an image id is its content's: all/1.jpg (drawn as evaluation/1.jpg) and all/4.jpg are images of sub
    assert report["train"]["excluded_questions"] == {"in-sub": 2}
    assert report["splits"]["diagnosis"]["train"]["rows"] == 2
    card = (tmp_path / "out" / "README.md").read_text()
    assert "train" in card and "2 questions" in card and "evaluation/" in card


def test_a_build_has_a_leak_free_train_split(built, tmp_path, monkeypatch):
    """A build small enough that Sub would take everything, with the Sub sizes cut so that it does not."""
    from tiny_clip import register_tiny_model

    from spinebench_hf.construction import pipeline
    from spinebench_hf.sources.synthetic import write_samples

    monkeypatch.setattr(pipeline, "SUB_SIZES", {"diagnosis": 12, "localization": 4})
    # the tiny random-weight encoder maps every image to nearly one point (cosine 0.9999): every image would be a
    # near-duplicate of sub. The rule itself is tested above; here the others are, with it out of reach.
    real = pipeline.near_duplicates
    monkeypatch.setattr(pipeline, "near_duplicates", lambda ids, vectors, sub: real(ids, vectors, sub, threshold=1.01))
    sources = {k: str(v) for k, v in write_samples(tmp_path / "archives", per_source=8).items()}
    with pytest.warns(UserWarning):
        report = pipeline.build(
            pipeline.BuildOptions(
                sources=sources,
                output=tmp_path / "data",
                max_side=64,
                encoder=register_tiny_model(),
                encoder_weights="random",
                cache_dir=built / "cache",
            )
        )
    present = [
        (config, split)
        for config, splits in report["splits"].items()
        for split, info in splits.items()
        if info["rows"]
    ]  # a split of no rows is not in the card (datasets cannot load one)
    load = {
        (config, split): datasets.load_dataset(str(tmp_path / "data"), config, split=split).remove_columns("image")
        for config, split in present
    }
    load = {
        key: load.get(key, [])
        for key in [(config, split) for config in ("diagnosis", "localization") for split in ("sub", "train", "full")]
    }
    sub = [row for config in ("diagnosis", "localization") for row in load[config, "sub"]]
    train = [row for config in ("diagnosis", "localization") for row in load[config, "train"]]
    assert train and len(sub) == 16
    for key in ("image_id", "patient_id", "study_id"):
        in_sub = {row[key] for row in sub} - {""}
        assert not any(row[key] in in_sub for row in train), key
    full = sum(len(load[config, "full"]) for config in ("diagnosis", "localization"))
    assert report["train"]["images"] == len({row["image_id"] for row in load["diagnosis", "train"]})
    assert sum(report["train"]["excluded_images"].values()) + report["train"]["images"] == len(
        load["diagnosis", "full"]
    )
    assert full > len(train) + len(sub) - 1  # some questions are in neither: they leak into sub
    assert "near_duplicates" in report["train"] and "train" in (tmp_path / "data" / "README.md").read_text()


def test_reports_and_baselines_read_the_release_spelling_as_its_label():
    import pandas as pd

    from spinebench_hf.evaluation.baseline_rules import healthy_letters
    from spinebench_hf.report.tables import confusion, level_breakdown

    options = ["cervical Lordosis", "healthy", "Osteophytes"]
    assert healthy_letters(options, "diagnosis") == ("B",)
    scored = pd.DataFrame(
        [
            {
                "model": "m",
                "task": "diagnosis",
                "disease": "Cervical lordosis",
                "options": options,
                "extracted": ["A"],
            },
            {"model": "m", "task": "diagnosis", "disease": "Healthy", "options": options, "extracted": ["B"]},
            {
                "model": "m",
                "task": "localization",
                "disease": "x",
                "options": ["l4-l5", "L2/L3"],
                "answer": ["A"],
                "extracted": ["A"],
            },
        ]
    )
    table = confusion(scored, "m")
    assert table.loc["Cervical lordosis", "Cervical lordosis"] == 1 and table.loc["Healthy", "Healthy"] == 1
    levels = level_breakdown(scored).set_index("level")
    assert levels.loc["L4/L5", "recall"] == 1.0


def test_a_question_file_is_streamed_and_malformed_json_still_names_line_and_column(tmp_path):
    from spinebench_hf.sources.archive import FolderTree
    from spinebench_hf.sources.release import ReleaseFormatError, load_records

    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "a.json").write_bytes(b"\xef\xbb\xbf" + json.dumps([{"a": [1, {"b": 2.5}]}, "x", 3]).encode())
    (folder / "b.json").write_text('[{"a": 1},\n {"b": }]')
    (folder / "c.json").write_text('{"data": [{"a": 1}]}')
    tree = FolderTree(folder)
    records = load_records(tree, "a.json")
    assert next(records) == {"a": [1, {"b": 2.5}]}  # one at a time
    assert list(records) == ["x", 3]
    assert list(load_records(tree, "c.json")) == [{"a": 1}]
    with pytest.raises(ReleaseFormatError, match=r"b\.json: not valid JSON at line 2 column 8"):
        list(load_records(tree, "b.json"))


@pytest.mark.slow
def test_a_release_of_the_real_size_imports(tmp_path):
    """64,154 records on about 40,000 images, as the authors' release: every record used, train leak-free
    (memory and speed: bench/release_import.py)."""
    from spinebench_hf.sources.synthetic import write_large_release

    release = write_large_release(tmp_path / "release", 64_154)
    report = import_release(release, tmp_path / "out")
    assert sum(sum(tasks.values()) for tasks in report["used"].values()) == 64_154 and report["skipped"] == {}
    splits = report["splits"]
    assert sum(splits[c]["full"]["rows"] for c in splits) == 64_154
    assert sum(splits[c]["train"]["rows"] for c in splits) == sum(
        splits[c]["full"]["rows"] - splits[c]["sub"]["rows"] for c in splits
    )  # all/ shares no image with sub
    sub = datasets.load_dataset(str(tmp_path / "out"), "localization", split="sub")
    assert sub[0]["options"] == ["L3/L4", "L1/L2", "L5/S1", "L2/L3", "L4/L5"]
