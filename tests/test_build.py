"""`spinebench build` end to end on fixture archives of all four sources: every docs/building.md rule on every row."""

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

import datasets
import numpy as np
import pytest
from conftest import assert_one_truth_per_image
from tiny_clip import register_tiny_model

from spinebench_hf.construction.pipeline import BuildOptions, build
from spinebench_hf.construction.subset import balanced_quotas
from spinebench_hf.embedding.encoder import ImageEncoder, embed
from spinebench_hf.labels import CLASS_NAMES, DISEASES, HEALTHY, LEVELS
from spinebench_hf.prompts import LETTERS
from spinebench_hf.schema import SUB_SIZES
from spinebench_hf.sources.synthetic import write_samples

PER_SOURCE = 14


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    sources = {name: str(path) for name, path in write_samples(root / "archives", per_source=PER_SOURCE).items()}
    options = BuildOptions(
        sources=sources,
        output=root / "out",
        encoder=register_tiny_model(),
        encoder_weights="random",
        max_side=64,
        cache_dir=root / "cache",
    )
    with pytest.warns(UserWarning, match="random"):
        report = build(options)
    return {"root": root, "options": options, "report": report}


def load(built, config, split, **kwargs):
    return datasets.load_dataset(str(built["options"].output), config, split=split, **kwargs)


def embeddings(built, rows):
    """The build's embeddings, recomputed: diagnosis rows are one per image in build order, so the batches match."""
    encoder = ImageEncoder(register_tiny_model(), "random")
    items = [(row["image_id"], row["image"]["bytes"]) for row in rows]
    return np.stack([vector for _, vector in embed(encoder, None, items, built["options"].batch_size)])


def test_every_diagnosis_row_follows_the_option_rules(built):
    rows = load(built, "diagnosis", "full").cast_column("image", datasets.Image(decode=False))
    names = rows.features["disease"].names
    assert names == list(CLASS_NAMES) and len(rows) == built["report"]["questions"]["diagnosis"]
    vectors = embeddings(built, rows)
    diseases_of = [tuple(names[d] for d in row["diseases"]) for row in rows]
    for i, row in enumerate(rows):
        truth, present = names[row["disease"]], set(diseases_of[i])
        assert len(row["options"]) == 5 == len(set(row["options"])) and set(row["options"]) <= set(CLASS_NAMES)
        assert HEALTHY in row["options"] and truth in present
        assert row["answer"] == [LETTERS[row["options"].index(truth)]] and row["answer_text"] == [truth]
        distractors = [o for o in row["options"] if o not in (truth, HEALTHY)]
        assert not present.intersection(distractors) and len(distractors) == (4 if truth == HEALTHY else 3)
        # the distractors are the most similar allowed diseases, recomputed here from the cached embeddings
        similarity = direct_similarity(i, vectors, diseases_of, row["image_id"], rows["image_id"])
        allowed = {d: s for d, s in similarity.items() if d not in present | {truth, HEALTHY} and s is not None}
        ranked = sorted(allowed, key=lambda d: -allowed[d])[: len(distractors)]
        assert set(ranked) <= set(distractors)
        assert all(similarity[d] is None for d in set(distractors) - set(ranked))  # fill: diseases without library
        for option, stored in zip(row["options"], row["option_similarity"]):
            assert (stored is None) == (similarity.get(option) is None)
            if stored is not None:
                assert stored == pytest.approx(similarity[option], abs=1e-4)


def direct_similarity(i, vectors, diseases_of, image_id, image_ids):
    """Mean similarity of image i to every image of each disease, as the library holds them all here (< 200)."""
    result = {}
    for disease in DISEASES:
        others = [j for j, present in enumerate(diseases_of) if disease in present and image_ids[j] != image_id]
        result[disease] = float(np.mean(vectors[others] @ vectors[i])) if others else None
    return result


def test_every_localization_row(built):
    rows = load(built, "localization", "full")
    names = rows.features["source"].names
    assert len(rows) == built["report"]["questions"]["localization"] > 0
    assert {names[r["source"]] for r in rows} == {"buu", "rsna"}
    for row in rows:
        assert sorted(row["options"]) == list(LEVELS) and row["levels"] and row["option_similarity"] == []
        assert [row["options"][LETTERS.index(a)] for a in row["answer"]] == row["answer_text"]
        assert sorted(row["answer_text"]) == sorted(row["levels"]) and row["answer"] == sorted(row["answer"])
        if names[row["source"]] == "buu":
            assert row["view"] == "lateral"
        else:
            assert row["view"].startswith("Sagittal") and row["modality"] == "MRI"


def test_one_truth_per_image_on_every_row(built):
    assert assert_one_truth_per_image(built["options"].output) > 0


def test_sub_is_balanced_and_streams(built):
    for config in ("diagnosis", "localization"):
        full, sub = load(built, config, "full"), load(built, config, "sub")
        assert set(sub["id"]) <= set(full["id"]) and len(set(sub["id"])) == len(sub)
        if config == "diagnosis":
            key = lambda rows: Counter(rows["disease"])  # noqa: E731
        else:
            key = lambda rows: Counter(zip(rows["source"], rows["disease"]))  # noqa: E731
        assert key(sub) == balanced_quotas(key(full), SUB_SIZES[config])
        streamed = list(load(built, config, "sub", streaming=True))
        assert [r["id"] for r in streamed] == sub["id"] and streamed[0]["image"].mode == "RGB"
        assert max(streamed[0]["image"].size) <= 64


def test_report_accounts_for_every_source_row(built):
    report = built["report"]
    assert set(report["sources"]) == {"buu", "csxa", "rsna", "vindr"}
    assert report["sources"]["vindr"]["skipped"] == {"dropped-label": 1}  # the sample's Surgical implant image
    assert report["questions"]["diagnosis"] == sum(s["images"] for s in report["sources"].values())
    assert report["encoder"]["weights"] == "random" and len(report["encoder"]["weight_hash"]) == 64
    assert (
        json.loads((built["options"].output / "build_report.json").read_text())["fingerprint"] == report["fingerprint"]
    )
    files = sorted(
        p.relative_to(built["options"].output).as_posix() for p in built["options"].output.rglob("*.parquet")
    )
    assert (
        files
        == sorted(report["files"])
        == [
            "diagnosis/full-00000-of-00001.parquet",
            "diagnosis/sub-00000-of-00001.parquet",
            "diagnosis/train-00000-of-00001.parquet",
            "localization/full-00000-of-00001.parquet",
            "localization/sub-00000-of-00001.parquet",
            "localization/train-00000-of-00001.parquet",
        ]
    )
    card = (built["options"].output / "README.md").read_text()
    assert "config_name: diagnosis" in card and "path: localization/sub-*" in card and "num_examples:" in card
    diagnosis_full = report["splits"]["diagnosis"]["full"]["rows"]
    assert f"| diagnosis | full | {diagnosis_full} |" in card and "**no**" in card and "keep it private" in card
    assert datasets.get_dataset_config_names(str(built["options"].output)) == ["diagnosis", "localization"]


@pytest.mark.slow
def test_two_builds_are_byte_identical_wherever_the_archives_lie(built, tmp_path):
    """Archives moved, a fresh cache, images decoded in 2 processes: the same bytes."""
    moved = {}
    for name, path in built["options"].sources.items():
        target = tmp_path / "elsewhere" / name / Path(path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if Path(path).is_dir() else shutil.copy)(path, target)
        moved[name] = str(target)
    options = BuildOptions(
        sources=moved,
        output=tmp_path / "again",
        encoder=register_tiny_model(),
        encoder_weights="random",
        max_side=64,
        cache_dir=tmp_path / "fresh-cache",
        num_proc=2,
    )
    with pytest.warns(UserWarning):
        report = build(options)
    assert report["fingerprint"] == built["report"]["fingerprint"]
    for name in report["files"]:
        first = (built["options"].output / name).read_bytes()
        assert hashlib.sha256((options.output / name).read_bytes()).hexdigest() == hashlib.sha256(first).hexdigest()


def test_the_stored_source_encoding_does_not_follow_the_readers(monkeypatch):
    """The `source` ClassLabel names are fixed in the schema: adding a reader (here, before the others) changes
    neither the stored names nor their order, so older datasets and results decode as they were written."""
    from spinebench_hf import schema, sources
    from spinebench_hf.sources.base import SourceReader

    before = schema.features()["source"].names

    class NewReader(SourceReader):
        name = "aaa-new"

    monkeypatch.setattr(sources, "READERS", {"aaa-new": NewReader, **sources.READERS})
    assert schema.features()["source"].names == before == ["buu", "csxa", "rsna", "vindr", "unknown"]
    assert list(sources.READERS)[0] == "aaa-new"
    assert set(sources.READERS) - {"aaa-new"} <= set(schema.SOURCE_NAMES)  # every real reader has its stored name


def test_pydicom_warnings_are_counted_once_not_printed_per_file(tmp_path, capfd):
    """Real archives make pydicom warn about thousands of files; the build counts each kind in its report."""
    import io
    import warnings

    import pydicom

    from spinebench_hf.sources.synthetic import VindrImage, write_vindr

    images = [VindrImage(f"{i:032x}", lesions=(("Osteophytes",), ("No finding",))[i % 2]) for i in range(1, 7)]
    folder = write_vindr(tmp_path / "vindr", images)
    for path in folder.rglob("*.dicom"):  # native pixel data with excess padding: pydicom warns while decoding
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the hex UIDs, written back
            ds = pydicom.dcmread(path)
            ds.decompress()
            ds.PixelData = ds.PixelData + b"\0" * 8
            out = io.BytesIO()
            ds.save_as(out, enforce_file_format=True)
        path.write_bytes(out.getvalue())
    options = BuildOptions(
        sources={"vindr": str(folder)},
        output=tmp_path / "out",
        encoder=register_tiny_model(),
        encoder_weights="random",
        max_side=32,
        cache_dir=tmp_path / "cache",
    )
    capfd.readouterr()
    with pytest.warns(UserWarning, match="RANDOM") as caught:
        report = build(options)
    printed = capfd.readouterr()
    assert "excess padding" not in printed.out + printed.err + " ".join(str(w.message) for w in caught)
    assert report["decoder_warnings"] == {
        (
            "pydicom: The pixel data is N bytes long, which indicates it contains N bytes of excess padding to be "
            "removed"
        ): 6
    }
    assert report["sources"]["vindr"]["images"] == 6 and report["image_notes"] == []
