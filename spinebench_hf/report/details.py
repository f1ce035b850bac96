"""lighteval's per-sample details → one table of samples (the input of every report and of the rating kit).

A run's details are `<output-dir>/details/<model name>/<timestamp>/details_spinebench:<task>|0_<timestamp>.parquet`;
each row holds the Doc (with `specific`: the item's fields plus the reply, extracted letters and extraction stage
that the task recorded) and the metric values.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import SpineBenchError
from ..labels import CLASS_NAMES
from ..metrics import SCORE_NAMES
from ..schema import SOURCE_NAMES, TASK_VARIANTS, class_name


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


def variant(task_name: str) -> str:
    """'' for the protocol tasks (also `_full`), 'blind' or 'circular' for the robustness variants."""
    name = task_name.split("|")[0]
    return next((v for v in TASK_VARIANTS if name.endswith("_" + v)), "")


def first_image_bytes(images) -> bytes | None:
    if images is None or len(images) == 0:
        return None
    first = images[0]
    return first.get("bytes") if isinstance(first, dict) else None


def read_details(paths: list[str | Path], *, images: bool = False) -> pd.DataFrame:
    """One row per (model, sample): the item's fields, the reply, extracted letters, extraction stage and every
    score; with `images`, the image bytes as the details saved them."""
    rows = []
    for path in details_files(paths):
        model = model_name(path)
        for _, detail in pd.read_parquet(path).iterrows():
            doc, metric = detail["doc"], detail["metric"]
            specific = doc["specific"]
            row = {
                "model": model,
                "task": specific["task"],
                "variant": variant(str(doc["task_name"])),
                "id": specific["id"],
                "image_id": specific["image_id"],
                # the cluster of the intervals; an imported release has no studies: each image is its own
                "study_id": str(specific["study_id"]) or str(specific["image_id"]),
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
            if images:
                row["image"] = first_image_bytes(doc.get("images"))
            rows.append(row)
    return pd.DataFrame(rows)


def scored_questions(paths: list[str | Path]) -> pd.DataFrame:
    """The details as scored questions: one row per (model, variant, question), a question answered twice refused."""
    scored = read_details(paths)
    twice = scored.duplicated(["model", "variant", "id"])
    if twice.any():
        raise SpineBenchError(f"questions answered twice by one model: {scored[twice][['model', 'id']].head().values.tolist()}")
    return scored
