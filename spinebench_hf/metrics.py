"""Scores (docs/scoring.md): diagnosis exact letter; localization exact set plus per-question precision, recall, F1,
Jaccard; format compliance; Overall = the mean of the two accuracies. An unreadable answer (None) is wrong everywhere.

`score_reply` is the one scoring core: the lighteval task, the lmms-eval task, the `evaluate` metric and the sweep
all call it; `TASKS` is the one table of task names, configs, splits and variants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .parsing import extract_answer
from .schema import CONFIGS, TASK_VARIANTS

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
    """1.0 when the prediction is exactly the one gold letter (two letters for one answer are wrong).

    Args:
        pred: the letters read from the reply, or None when no answer could be read.
        gold: the gold letters (one for a diagnosis question).

    Returns:
        1.0 or 0.0.

    >>> score_diagnosis(("B",), ["B"]), score_diagnosis(("A", "B"), ["B"]), score_diagnosis(None, ["B"])
    (1.0, 0.0, 0.0)
    """
    return float(pred is not None and tuple(pred) == tuple(gold))


def score_localization(pred: Letters, gold: Sequence[str]) -> dict[str, float]:
    """Exact set match (`acc`) and the per-question set overlaps; an empty or missing prediction scores 0.

    Args:
        pred: the letters read from the reply, or None when no answer could be read.
        gold: the gold letters (one or more disc levels).

    Returns:
        `acc` (1.0 only for the exact set), `precision`, `recall`, `f1` and `jaccard` of the two letter sets.

    >>> score_localization(("A", "C"), ["A", "B"])
    {'acc': 0.0, 'precision': 0.5, 'recall': 0.5, 'f1': 0.5, 'jaccard': 0.3333333333333333}
    >>> score_localization(None, ["A"])["acc"], score_localization(["B", "A"], ["A", "B"])["acc"]
    (0.0, 1.0)
    """
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


# --- one sample, scored the same way by every harness -----------------------------------------------------------
# The metrics a harness without the judge reports (lmms-eval, the `evaluate` metric): acc is then acc_rules.
RULE_METRIC_NAMES = {
    task: tuple(n for n in names if n not in ("acc_rules", "judge_rescue")) for task, names in METRIC_NAMES.items()
}


class Judge(Protocol):
    """A judge model (evaluation/judge.py): the letters it reads in a reply, or None, and its raw output."""

    name: str

    def __call__(self, reply: str, options: Sequence[str]) -> tuple[tuple[str, ...] | None, str]:
        """The letters the judge reads in `reply` (None: no answer) and its raw output."""


@dataclass(frozen=True)
class ScoredReply:
    """One reply scored by `score_reply`: the letters read, by which stage, and every metric of its task."""

    rules: tuple[str, ...] | None  # the letters the rules read (None: no answer)
    letters: tuple[str, ...] | None  # the letters scored: the rules', else the judge's
    stage: str  # how they were read: marker, option_text, judge or none
    scores: dict[str, float]  # METRIC_NAMES[task], every one
    judge: dict | None = None  # {"model": ..., "output": ...} when the judge was asked

    def rule_scores(self, task: str) -> dict[str, float]:
        """The scores of a harness without a judge (RULE_METRIC_NAMES), acc being the rules' accuracy."""
        return {name: self.scores["acc_rules" if name == "acc" else name] for name in RULE_METRIC_NAMES[task]}


def score_reply(
    reply: str, task: str, options: Sequence[str], answer: Sequence[str], judge: Judge | None = None
) -> ScoredReply:
    """Read a reply's answer (the parser, then the judge when one is given and the rules read nothing) and score it.

    Args:
        reply: the model's raw reply (reasoning blocks included: the parser removes them).
        task: "diagnosis" or "localization".
        options: the item's option texts, in letter order.
        answer: the gold letters.
        judge: an optional judge model, asked only when the rules read no answer.

    Returns:
        The letters read, how, and every metric of METRIC_NAMES[task].

    Raises:
        BackendError: only from the judge (evaluation/judge.py with an OpenAI-compatible server) when its server
            refuses the request or never answers; AccessDenied when it answers 401/403.
        KeyError: `task` is neither "diagnosis" nor "localization".

    >>> score_reply("<think>B?</think>My final option: [A]", "diagnosis", ["Healthy", "Osteophytes"], ["A"]).scores
    {'acc': 1.0, 'acc_rules': 1.0, 'format_compliance': 1.0, 'judge_rescue': 0.0}
    """
    extraction = extract_answer(reply, list(options))
    letters, stage, asked = extraction.letters, extraction.stage, None
    if letters is None and judge is not None:
        letters, raw = judge(reply, list(options))
        asked = {"model": judge.name, "output": raw}
        stage = "judge" if letters is not None else "none"
    if task == "diagnosis":
        scores = {"acc": score_diagnosis(letters, answer), "acc_rules": score_diagnosis(extraction.letters, answer)}
    else:
        scores = score_localization(letters, answer) | {
            "acc_rules": score_localization(extraction.letters, answer)["acc"]
        }
    scores |= {"format_compliance": format_compliance(stage), "judge_rescue": float(stage == "judge")}
    return ScoredReply(extraction.letters, letters, stage, {name: scores[name] for name in METRIC_NAMES[task]}, asked)


# --- the tasks: one table for lighteval, lmms-eval, the sweep and the reports -------------------------------------
TASK_PREFIX = "spinebench:"


@dataclass(frozen=True)
class TaskInfo:
    """One task of `TASKS`: the config and split it reads, and its robustness variant ("" for the protocol)."""

    config: str  # diagnosis / localization
    split: str  # sub / full
    variant: str = ""  # "", or a robustness variant (schema.TASK_VARIANTS): blind, circular


def task_table() -> dict[str, TaskInfo]:
    """Every task by name: `spinebench:<config>` on SpineBench-Sub (the paper's protocol), `_full` on every question,
    `_blind` with a grey image, `diagnosis_circular` on every rotation of the options."""
    blind, circular = TASK_VARIANTS
    tasks = {
        f"{TASK_PREFIX}{config}{suffix}": TaskInfo(config, split)
        for config in CONFIGS
        for suffix, split in (("", "sub"), ("_full", "full"))
    }
    tasks |= {f"{TASK_PREFIX}{config}_{blind}": TaskInfo(config, "sub", blind) for config in CONFIGS}
    return tasks | {f"{TASK_PREFIX}diagnosis_{circular}": TaskInfo("diagnosis", "sub", circular)}


TASKS = task_table()
PROTOCOL_TASKS = tuple(name for name, info in TASKS.items() if not info.variant)  # what lmms-eval gets
