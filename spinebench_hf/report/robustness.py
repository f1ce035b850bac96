"""Robustness scores: circular evaluation, position bias and the image-blind control.

- Circular (diagnosis): a question counts right only if every rotation of its options is right.
- Image-blind: what a model gets right with a flat grey image is answerable from the text alone.
- Position bias: the letters a model chooses against the letters that are correct.
"""

from __future__ import annotations

import pandas as pd

from ..prompts import LETTERS
from ..schema import ROTATION


def circular_scores(scored: pd.DataFrame) -> pd.DataFrame:
    """Per model: plain accuracy (unrotated), circular accuracy (all rotations right), and consistency (the same
    option chosen in every rotation)."""
    rows = scored[scored.variant == "circular"]
    if rows.empty:
        return pd.DataFrame(columns=["model", "questions", "plain_acc", "circular_acc", "consistency"])
    chosen = [tuple(r.options[LETTERS.index(x)] for x in r.extracted) for r in rows.itertuples()]
    base, rotation = zip(*(i.split(ROTATION) for i in rows.id))
    rows = rows.assign(chosen=chosen, base=base, rotation=[int(k) for k in rotation])
    result = []
    for model, group in rows.groupby("model"):
        per_question = group.groupby("base")
        result.append(
            {
                "model": model,
                "questions": per_question.ngroups,
                "plain_acc": float(group[group.rotation == 0].acc.mean()),
                "circular_acc": float(per_question.acc.min().mean()),
                "consistency": float(per_question.chosen.nunique().eq(1).mean()),
            }
        )
    return pd.DataFrame(result)


def position_bias(scored: pd.DataFrame) -> pd.DataFrame:
    """Diagnosis: how often each letter is chosen and how often it is correct, per model."""
    rows = scored[(scored.task == "diagnosis") & (scored.variant == "")]
    result = []
    for model, group in rows.groupby("model"):
        chosen = group.extracted.map(lambda x: x[0] if len(x) == 1 else "-")
        gold = group.answer.map(lambda x: x[0])
        for letter in [*LETTERS, "-"]:
            result.append(
                {
                    "model": model,
                    "letter": letter,
                    "chosen": int((chosen == letter).sum()),
                    "correct_letter": int((gold == letter).sum()),
                    "acc_when_correct_letter": float(group[gold == letter].acc.mean())
                    if (gold == letter).any()
                    else None,
                }
            )
    return pd.DataFrame(result)


def blind_scores(scored: pd.DataFrame) -> pd.DataFrame:
    """Accuracy with and without the image, on the questions asked both ways."""
    result = []
    for (model, task), group in scored[scored.variant.isin(["", "blind"])].groupby(["model", "task"]):
        pivot = group.pivot_table(index="id", columns="variant", values="acc")
        if "blind" in pivot and "" in pivot:
            both = pivot.dropna()
            result.append(
                {
                    "model": model,
                    "task": task,
                    "questions": len(both),
                    "acc_with_image": float(both[""].mean()),
                    "acc_blind": float(both["blind"].mean()),
                    "right_without_image": int(both["blind"].sum()),
                }
            )
    return pd.DataFrame(result)
