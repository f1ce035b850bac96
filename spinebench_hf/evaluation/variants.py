"""The robustness variants of the questions (scored in `report/robustness.py`).

- Circular (diagnosis): each question asked 5 times with its options rotated (A→B→…). `spinebench eval --circular
  ...` writes the rotated copy of the dataset's diagnosis Sub split beside it (`<SPINEBENCH_DATA>-circular`) and
  the task `spinebench:diagnosis_circular` asks it.
- Image-blind: `spinebench:diagnosis_blind` / `spinebench:localization_blind` ask the same questions with a flat
  grey image instead of the X-ray/MRI.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets

from ..dataset_files import circular_folder, dataset_fingerprint
from ..prompts import LETTERS
from ..schema import ROTATION, features


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


def write_rotations(data: str | Path) -> Path:
    """The diagnosis Sub split with every question in all its rotations, as a Hub-style folder (reused if current)."""
    target = circular_folder(data)
    fingerprint = dataset_fingerprint(data)
    stamp = target / "rotations_of.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("fingerprint") == fingerprint:
        return target
    rows = datasets.load_dataset(str(data), "diagnosis", split="sub").cast_column(
        "image", datasets.Image(decode=False)
    )

    def generate():
        for row in rows:
            for k in range(len(row["options"])):
                yield rotate(row, k)

    rotated = datasets.Dataset.from_generator(generate, features=features(), cache_dir=str(target / ".cache"))
    (target / "diagnosis").mkdir(parents=True, exist_ok=True)
    rotated.to_parquet(target / "diagnosis" / "sub-00000-of-00001.parquet")
    (target / "README.md").write_text(
        "---\nconfigs:\n- config_name: diagnosis\n  data_files:\n  - split: sub\n    path: diagnosis/sub-*\n---\n"
        f"Rotations of {Path(data).resolve()} (diagnosis, sub) for circular evaluation; written by spinebench eval.\n"
    )
    stamp.write_text(json.dumps({"fingerprint": fingerprint}))
    return target
