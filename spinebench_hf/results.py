"""lighteval's per-sample details → one table of scored questions (the input of every report).

A run's details are `<output-dir>/details/<model name>/<timestamp>/details_spinebench:<task>|0_<timestamp>.parquet`;
each row holds the Doc (with `specific`: the item's fields plus the reply, extracted letters and extraction stage
that the harness recorded) and the metric values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SpineBenchError
from .labels import CLASS_NAMES
from .sources import READERS

SCORES = ["acc", "acc_rules", "precision", "recall", "f1", "jaccard", "format_compliance", "judge_rescue"]
SOURCE_NAMES = list(READERS)


def details_files(paths: list[str | Path]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(path.rglob("details_spinebench:*.parquet"))
        elif path.is_file() and path.suffix == ".parquet":
            found.append(path)
        elif path.is_file() and path.suffix == ".json":
            found += details_for_results(path)
        else:
            raise SpineBenchError(f"{path}: expected lighteval output (a folder, a results_*.json or a details parquet)")
    if not found:
        raise SpineBenchError(f"no details_spinebench:*.parquet in {[str(p) for p in paths]} (run lighteval with --save-details)")
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


def label(names: list[str], value) -> str:
    """A ClassLabel stored as its index, or already a name."""
    return names[int(value)] if isinstance(value, (int, np.integer)) else str(value)


def variant(task_name: str) -> str:
    """'' for the protocol tasks (also `_full`), 'blind' or 'circular' for the robustness variants."""
    name = task_name.split("|")[0]
    return next((v for v in ("blind", "circular") if name.endswith("_" + v)), "")


def load_records(paths: list[str | Path]) -> pd.DataFrame:
    """One row per (model, question): item fields, extracted letters, stage and every score."""
    rows = []
    for path in details_files(paths):
        model = model_name(path)
        for _, detail in pd.read_parquet(path).iterrows():
            specific, metric = detail["doc"]["specific"], detail["metric"]
            rows.append({
                "model": model,
                "task": specific["task"],
                "variant": variant(detail["doc"]["task_name"]),
                "id": specific["id"],
                "image_id": specific["image_id"],
                "study_id": str(specific["study_id"]),
                "source": label(SOURCE_NAMES, specific["source"]),
                "disease": label(CLASS_NAMES, specific["disease"]),
                "modality": specific["modality"],
                "options": list(specific["options"]),
                "answer": list(specific["answer"]),
                "extracted": list(specific.get("extracted", [])),
                "stage": specific.get("extraction_stage", "none"),
                **{score: float(metric[score]) for score in SCORES if metric.get(score) is not None},
            })
    records = pd.DataFrame(rows)
    twice = records.duplicated(["model", "variant", "id"])
    if twice.any():
        raise SpineBenchError(f"questions answered twice by one model: {records[twice][['model', 'id']].head().values.tolist()}")
    return records
