"""Robustness checks: circular evaluation, position bias and the image-blind control.

- Circular (diagnosis): each question asked 5 times with its options rotated (A→B→…), counted right only if every
  rotation is right. `spinebench eval --circular ...` writes the rotated copy of the dataset's diagnosis Sub split
  beside it (`<SPINEBENCH_DATA>-circular`) and the task `spinebench:diagnosis_circular` asks it.
- Image-blind: `spinebench:diagnosis_blind` / `spinebench:localization_blind` ask the same questions with a flat
  grey image instead of the X-ray/MRI: what a model gets right there is answerable from the text alone.
- Position bias: the letters a model chooses against the letters that are correct.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pandas as pd
from PIL import Image

from .builder import features
from .prompts import LETTERS

ROTATION = "#rot"


def rotate(row: dict, k: int) -> dict:
    """The row with options shifted by k places (option i moves to letter i+k) and the answer remapped."""
    n = len(row["options"])
    order = [(i - k) % n for i in range(n)]  # new position i holds old option order[i]
    moved = {LETTERS[old]: LETTERS[new] for new, old in enumerate(order)}
    similarity = row["option_similarity"]
    return row | {
        "id": f"{row['id']}{ROTATION}{k}",
        "options": [row["options"][old] for old in order],
        "answer": sorted(moved[letter] for letter in row["answer"]),
        "option_similarity": [similarity[old] for old in order] if similarity else similarity,
    }


def circular_folder(data: str | Path) -> Path:
    return Path(str(Path(data).resolve()) + "-circular")


def write_rotations(data: str | Path) -> Path:
    """The diagnosis Sub split with every question in all its rotations, as a Hub-style folder (reused if current)."""
    target = circular_folder(data)
    fingerprint = json.loads((Path(data) / "build_report.json").read_text())["fingerprint"]
    stamp = target / "rotations_of.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("fingerprint") == fingerprint:
        return target
    rows = datasets.load_dataset(str(data), "diagnosis", split="sub").cast_column("image", datasets.Image(decode=False))

    def generate():
        for row in rows:
            for k in range(len(row["options"])):
                yield rotate(row, k)

    rotated = datasets.Dataset.from_generator(generate, features=features(), cache_dir=str(target / ".cache"))
    (target / "diagnosis").mkdir(parents=True, exist_ok=True)
    rotated.to_parquet(target / "diagnosis" / "sub-00000-of-00001.parquet")
    (target / "README.md").write_text(
        "---\nconfigs:\n- config_name: diagnosis\n  data_files:\n  - split: sub\n    path: diagnosis/sub-*\n---\n"
        f"Rotations of {Path(data).resolve()} (diagnosis, sub) for circular evaluation; written by spinebench eval.\n")
    stamp.write_text(json.dumps({"fingerprint": fingerprint}))
    return target


def blank_like(image: Image.Image) -> Image.Image:
    return Image.new("RGB", image.size, (128, 128, 128))


def circular_scores(records: pd.DataFrame) -> pd.DataFrame:
    """Per model: plain accuracy (unrotated), circular accuracy (all rotations right), and consistency (the same
    option chosen in every rotation)."""
    rows = records[records.variant == "circular"]
    if rows.empty:
        return pd.DataFrame(columns=["model", "questions", "plain_acc", "circular_acc", "consistency"])
    chosen = [tuple(r.options[LETTERS.index(x)] for x in r.extracted) for r in rows.itertuples()]
    base, rotation = zip(*(i.split(ROTATION) for i in rows.id))
    rows = rows.assign(chosen=chosen, base=base, rotation=[int(k) for k in rotation])
    result = []
    for model, group in rows.groupby("model"):
        per_question = group.groupby("base")
        result.append({"model": model, "questions": per_question.ngroups,
                       "plain_acc": float(group[group.rotation == 0].acc.mean()),
                       "circular_acc": float(per_question.acc.min().mean()),
                       "consistency": float(per_question.chosen.nunique().eq(1).mean())})
    return pd.DataFrame(result)


def position_bias(records: pd.DataFrame) -> pd.DataFrame:
    """Diagnosis: how often each letter is chosen and how often it is correct, per model."""
    rows = records[(records.task == "diagnosis") & (records.variant == "")]
    result = []
    for model, group in rows.groupby("model"):
        chosen = group.extracted.map(lambda x: x[0] if len(x) == 1 else "-")
        gold = group.answer.map(lambda x: x[0])
        for letter in [*LETTERS, "-"]:
            result.append({"model": model, "letter": letter, "chosen": int((chosen == letter).sum()),
                           "correct_letter": int((gold == letter).sum()),
                           "acc_when_correct_letter": float(group[gold == letter].acc.mean()) if (gold == letter).any() else None})
    return pd.DataFrame(result)


def blind_scores(records: pd.DataFrame) -> pd.DataFrame:
    """Accuracy with and without the image, on the questions asked both ways."""
    result = []
    for (model, task), group in records[records.variant.isin(["", "blind"])].groupby(["model", "task"]):
        pivot = group.pivot_table(index="id", columns="variant", values="acc")
        if "blind" in pivot and "" in pivot:
            both = pivot.dropna()
            result.append({"model": model, "task": task, "questions": len(both), "acc_with_image": float(both[""].mean()),
                           "acc_blind": float(both["blind"].mean()),
                           "right_without_image": int(both["blind"].sum())})
    return pd.DataFrame(result)
