"""Scores (SPEC §5): diagnosis exact letter; localization exact set plus per-question precision, recall, F1, Jaccard;
format compliance; Overall = the mean of the two accuracies. An unreadable answer (None) is wrong everywhere."""

from __future__ import annotations

from collections.abc import Sequence

Letters = Sequence[str] | None

# What each task reports per sample (and averages): acc is the paper's protocol (the rules, then the judge when one
# is configured); acc_rules the rules alone; format_compliance read from the contract marker; judge_rescue read by
# the judge only.
METRIC_NAMES = {
    "diagnosis": ("acc", "acc_rules", "format_compliance", "judge_rescue"),
    "localization": ("acc", "acc_rules", "precision", "recall", "f1", "jaccard", "format_compliance", "judge_rescue"),
}
SCORE_NAMES = tuple(dict.fromkeys(METRIC_NAMES["localization"] + METRIC_NAMES["diagnosis"]))


def score_diagnosis(pred: Letters, gold: Sequence[str]) -> float:
    """1.0 when the prediction is exactly the one gold letter (two letters for one answer are wrong)."""
    return float(pred is not None and tuple(pred) == tuple(gold))


def score_localization(pred: Letters, gold: Sequence[str]) -> dict[str, float]:
    """Exact set match (`acc`) and the per-question set overlaps; an empty or missing prediction scores 0."""
    predicted, truth = set(pred or ()), set(gold)
    overlap = len(predicted & truth)
    precision = overlap / len(predicted) if predicted else 0.0
    recall = overlap / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    union = len(predicted | truth)
    return {
        "acc": float(bool(predicted) and predicted == truth),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "jaccard": overlap / union if union else 0.0,
    }


def format_compliance(stage: str) -> float:
    """1.0 when the answer was read from the contract marker itself."""
    return float(stage == "marker")


def overall(diagnosis_acc: float, localization_acc: float) -> float:
    """The paper's Overall: the unweighted mean of the two task accuracies."""
    return (diagnosis_acc + localization_acc) / 2
