"""Per-sample results → one table of samples (the input of every report and of the rating kit), whichever harness
ran the model.

- lighteval (and `spinebench sweep`): `<output-dir>/details/<model name>/<timestamp>/details_spinebench:<task>|0_
  <timestamp>.parquet`; each row holds the Doc (with `specific`: the item's fields plus the reply, extracted letters
  and extraction stage that the task recorded) and the metric values.
- lmms-eval (`--log_samples`): `<output_path>/<model>/<timestamp>_samples_spinebench_<task>.jsonl`; each line holds,
  per metric, the record our `process_results` wrote (the same fields) with its `score`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..dataset_files import images_by_id
from ..errors import SpineBenchError
from ..labels import CLASS_NAMES
from ..metrics import SCORE_NAMES
from ..schema import SOURCE_NAMES, TASK_VARIANTS, class_name

LMMS_SAMPLES = "*_samples_spinebench_*.jsonl"


def details_files(paths: Sequence[str | Path]) -> list[Path]:
    """The details parquet and samples jsonl files in or named by `paths`; SpineBenchError when there are none."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(path.rglob("details_spinebench:*.parquet")) + sorted(path.rglob(LMMS_SAMPLES))
        elif path.is_file() and path.suffix in (".parquet", ".jsonl"):
            found.append(path)
        elif path.is_file() and path.suffix == ".json":
            found += details_for_results(path)
        else:
            raise SpineBenchError(
                f"{path}: expected lighteval or lmms-eval output (a folder, a results_*.json, a details "
                "parquet or a samples jsonl)"
            )
    if not found:
        raise SpineBenchError(
            f"no details_spinebench:*.parquet or {LMMS_SAMPLES} in {[str(p) for p in paths]} (run "
            "lighteval with --save-details, or lmms-eval with --log_samples)"
        )
    return found


def details_for_results(results: Path) -> list[Path]:
    """The details written in the same run as a results_<timestamp>.json."""
    stamp = results.stem.removeprefix("results_")
    root = next((p.parent for p in results.parents if p.name == "results"), results.parent)
    return sorted((root / "details").rglob(f"details_spinebench:*_{stamp}.parquet"))


def model_name(path: Path) -> str:
    """The folders between `details/` and the timestamp folder: ORG/MODEL, or a local model's last folder."""
    parts = path.parts[:-2]
    start = len(parts) - 1 - parts[::-1].index("details") + 1 if "details" in parts else len(parts) - 1
    names = parts[start:] or (path.parent.name,)
    return "/".join(names) if len(names) <= 2 else names[-1]


def variant(task_name: str) -> str:
    """'' for the protocol tasks (also `_full`), 'blind' or 'circular' for the robustness variants."""
    name = task_name.split("|")[0]
    return next((v for v in TASK_VARIANTS if name.endswith("_" + v)), "")


def first_image_bytes(images) -> bytes | None:
    """The bytes of a Doc's first stored image, or None when it saved none."""
    if images is None or len(images) == 0:
        return None
    first = images[0]
    return first.get("bytes") if isinstance(first, dict) else None


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A details parquet file; a truncated or foreign one is an error naming it."""
    try:
        frame = pd.read_parquet(path, columns=columns)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise SpineBenchError(
            f"{path}: not a readable details parquet file (truncated or damaged?): {' '.join(str(exc).split())[:300]}"
        ) from None
    missing = [column for column in columns or ("doc", "metric") if column not in frame]
    if missing:
        raise SpineBenchError(f"{path}: not lighteval details: no {', '.join(missing)} column")
    return frame


def lmms_rows(path: Path) -> list[dict]:
    """The samples of an lmms-eval log: one row per line, from the records our process_results wrote."""
    task = path.stem.split("_samples_", 1)[1]
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise SpineBenchError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    for number, line in enumerate(lines, start=1):
        try:
            sample = json.loads(line)
        except (ValueError, RecursionError):
            raise SpineBenchError(f"{path}, line {number}: not a JSON sample of lmms-eval's --log_samples") from None
        records = (
            {name: value for name, value in sample.items() if isinstance(value, dict) and "score" in value}
            if isinstance(sample, dict)
            else {}
        )
        if not records:
            raise SpineBenchError(
                f"{path}, line {number}: no SpineBench record (a metric with a `score`) in the sample"
            )
        record = next(iter(records.values()))
        rows.append(
            {
                "model": path.parent.name,
                "task": record["task"],
                "variant": variant(task),
                "id": record["id"],
                "image_id": record["image_id"],
                "study_id": str(record["study_id"]),
                "source": record["source"],
                "disease": record["disease"],
                "modality": record["modality"],
                "question": record["question"],
                "options": list(record["options"]),
                "answer": list(record["answer"]),
                "reply": record["reply"],
                "extracted": list(record["extracted"]),
                "stage": record["stage"],
                **{name: float(records[name]["score"]) for name in SCORE_NAMES if name in records},
            }
        )
    return rows


def read_details(paths: Sequence[str | Path]) -> pd.DataFrame:
    """One row per (model, sample): the item's fields, the reply, extracted letters, extraction stage and every
    score (images: `case_images`, for the few questions shown).

    Args:
        paths: lighteval output folders, results_*.json files, details parquet files, lmms-eval output folders or
            samples jsonl files, in any mix.

    Returns:
        One row per sample with `model`, `task`, `variant`, the item's fields, `reply`, `extracted`, `stage` and a
        column for every name of metrics.SCORE_NAMES (NaN where a sample has no such score).

    Raises:
        SpineBenchError: a path is none of those, nothing was found in them, or a file is unreadable or not
            SpineBench details.
    """
    rows = []
    for path in details_files(paths):
        if path.suffix == ".jsonl":
            rows += lmms_rows(path)
            continue
        model = model_name(path)
        for _, detail in read_parquet(path).iterrows():
            doc, metric = detail["doc"], detail["metric"]
            specific = doc["specific"]
            row = {
                "model": model,
                "task": specific["task"],
                "variant": variant(str(doc["task_name"])),
                "id": specific["id"],
                "image_id": specific["image_id"],
                # the cluster of the intervals; an imported release has no studies: each image is its own
                "study_id": str(specific.get("study_id") or specific["image_id"]),
                "source": class_name(SOURCE_NAMES, specific["source"]),
                "disease": class_name(CLASS_NAMES, specific["disease"]),
                "modality": specific["modality"],
                "question": specific.get("question", ""),
                "options": list(specific["options"]),
                "answer": list(specific["answer"]),
                "reply": specific.get("reply", ""),
                "extracted": list(specific.get("extracted", [])),
                "stage": specific.get("extraction_stage", "none"),
                **{score: float(metric[score]) for score in SCORE_NAMES if metric.get(score) is not None},
            }
            rows.append(row)
    frame = pd.DataFrame(rows)
    # every score a column, even where no question has it (a model whose every request failed has none)
    return frame.reindex(columns=[*frame.columns, *(name for name in SCORE_NAMES if name not in frame)])


def case_images(paths: Sequence[str | Path], ids: set[str]) -> dict[str, bytes]:
    """The image of each question in `ids`: from whichever details saved it (lighteval's do), else from the dataset
    folder a sweep's details name (a sweep does not copy its images); lmms-eval logs carry neither.

    Args:
        paths: the outputs given to `read_details`.
        ids: the question ids wanted.

    Returns:
        The stored image file's bytes by question id, for the ids found; an id with no image anywhere (or whose
        dataset folder was moved or deleted) is left out.

    Raises:
        SpineBenchError: as `read_details` for the paths, or a dataset folder a sweep names has no readable shard.
    """
    found: dict[str, bytes] = {}
    in_datasets: dict[tuple[str, str, str], set[str]] = {}
    for path in details_files(paths):
        if path.suffix != ".parquet" or ids <= set(found):
            continue
        for doc in read_parquet(path, columns=["doc"])["doc"]:
            fields = doc["specific"]
            item = fields["id"]
            if item not in ids or item in found:
                continue
            if image := first_image_bytes(doc.get("images")):
                found[item] = image
            elif fields.get("dataset"):
                in_datasets.setdefault((fields["dataset"], fields["config"], fields["split"]), set()).add(item)
    for (folder, config, split), wanted in sorted(in_datasets.items()):
        wanted -= set(found)
        if wanted and Path(folder).is_dir():  # a dataset moved or deleted since the sweep: no image, not an error
            found |= images_by_id(folder, config, split, wanted)
    return found


def scored_questions(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The details as scored questions: one row per (model, variant, question), a question answered twice refused.

    Args:
        paths: the outputs given to `read_details`.

    Returns:
        The `read_details` table, the input of `tables.write_report` and of the rating kit.

    Raises:
        SpineBenchError: as `read_details`, or one model answered the same question of one variant twice (e.g. two
            runs of one model given together).
    """
    scored = read_details(paths)
    twice = scored.duplicated(["model", "variant", "id"])
    if twice.any():
        raise SpineBenchError(
            f"questions answered twice by one model: {scored[twice][['model', 'id']].head().values.tolist()}"
        )
    return scored
