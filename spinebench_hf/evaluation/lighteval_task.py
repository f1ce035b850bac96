"""The lighteval side: dataset rows → Docs with the image; replies → extracted letters → scores.

`tasks/spinebench.py` exposes `TASKS_TABLE` from here. Per sample, `doc.specific` records the item id, the raw
reply, the extracted letters and the extraction stage (saved with `--save-details`; the prompt is in
`model_response.input`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from lighteval.metrics.metrics_sample import SampleLevelComputation
from lighteval.metrics.utils.metric_utils import SampleLevelMetricGrouping
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc, SamplingMethod

from ..metrics import METRIC_NAMES, format_compliance, score_diagnosis, score_localization
from ..parsing import extract_answer
from ..prompts import LETTERS, build_prompt
from ..schema import CONFIGS, EVALUATION_SPLITS, TASK_VARIANTS
from ..settings import GENERATION_SIZE, data_path
from .variants import blank_like, circular_folder

SPECIFIC_FIELDS = ("id", "image_id", "task", "question", "options", "answer", "source", "disease", "modality", "study_id")


def spinebench_doc(line: dict, task_name: str) -> Doc:
    """A dataset row → a Doc: the verbatim prompt, the image, gold letters as indices into A–E."""
    return Doc(
        task_name=task_name,
        query=build_prompt(line),
        choices=list(LETTERS[: len(line["options"])]),
        gold_index=[LETTERS.index(letter) for letter in line["answer"]],
        images=[line["image"]],
        specific={field: line[field] for field in SPECIFIC_FIELDS if field in line},
    )


def reply_text(model_response) -> str:
    """The raw reply, whatever shape the backend returned (0.13's VLM backend: a bare str). The parser removes
    reasoning itself, so the record keeps the reply as the model wrote it."""
    text = model_response.text
    if isinstance(text, str):
        return text
    return text[0] if text else ""


@functools.cache
def configured_judge():
    from .judge import judge_from_env

    return judge_from_env()


def read_answer(doc: Doc, reply: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, str]:
    """(letters by the rules, letters after the judge, stage); records the judge's output in doc.specific."""
    options = list(doc.specific["options"])
    extraction = extract_answer(reply, options)
    judge = configured_judge()
    if extraction.letters is not None or judge is None:
        return extraction.letters, extraction.letters, extraction.stage
    letters, raw = judge(reply, options)
    doc.specific["judge"] = {"model": judge.name, "output": raw}
    return None, letters, "judge" if letters is not None else "none"


class SpineBenchScore(SampleLevelComputation):
    def __init__(self, task: str):
        self.task = task

    def compute(self, doc: Doc, model_response, **kwargs) -> dict[str, float]:
        reply = reply_text(model_response)
        rules, final, stage = read_answer(doc, reply)
        doc.specific.update(reply=reply, extracted=list(final or ()), extraction_stage=stage)
        gold = doc.specific["answer"]
        if self.task == "diagnosis":
            scores = {"acc": score_diagnosis(final, gold), "acc_rules": score_diagnosis(rules, gold)}
        else:
            scores = score_localization(final, gold) | {"acc_rules": score_localization(rules, gold)["acc"]}
        return scores | {"format_compliance": format_compliance(stage), "judge_rescue": float(stage == "judge")}


def spinebench_metric(task: str) -> SampleLevelMetricGrouping:
    names = list(METRIC_NAMES[task])
    return SampleLevelMetricGrouping(
        metric_name=names,
        higher_is_better={name: True for name in names},
        category=SamplingMethod.GENERATIVE,
        sample_level_fn=SpineBenchScore(task),
        corpus_level_fn={name: np.mean for name in names},
    )


def task_config(name: str, config: str, split: str, prompt=spinebench_doc, repo: str | None = None) -> LightevalTaskConfig:
    return LightevalTaskConfig(
        name=f"spinebench:{name}",
        prompt_function=prompt,
        hf_repo=repo or data_path(),
        hf_subset=config,
        hf_avail_splits=list(EVALUATION_SPLITS),
        evaluation_splits=[split],
        few_shots_split=None,
        few_shots_select=None,
        metrics=[spinebench_metric(config)],
        generation_size=GENERATION_SIZE,
        stop_sequence=[],
        version=0,
    )


def blind_doc(line: dict, task_name: str) -> Doc:
    """The same question with a flat grey image: the image-blind control."""
    doc = spinebench_doc(line, task_name)
    doc.images = [blank_like(line["image"])]
    return doc


@dataclass(frozen=True)
class TaskSpec:
    config: str
    split: str
    prompt: Callable[[dict, str], Doc]
    folder: str  # the dataset folder the task reads


def task_specs(data: str) -> dict[str, TaskSpec]:
    """Every task over the dataset folder `data`: `spinebench:diagnosis` / `:localization` on SpineBench-Sub (the
    paper's protocol); `_full` on every question; `_blind` without the image; `diagnosis_circular` on every
    rotation of the options (written by `spinebench eval --circular` beside the dataset)."""
    blind, circular = TASK_VARIANTS
    specs = {f"spinebench:{config}{suffix}": TaskSpec(config, split, spinebench_doc, data)
             for config in CONFIGS for suffix, split in (("", "sub"), ("_full", "full"))}
    specs |= {f"spinebench:{config}_{blind}": TaskSpec(config, "sub", blind_doc, data) for config in CONFIGS}
    specs[f"spinebench:diagnosis_{circular}"] = TaskSpec("diagnosis", "sub", spinebench_doc, str(circular_folder(data)))
    return specs


def tasks_table() -> list[LightevalTaskConfig]:
    return [task_config(name.removeprefix("spinebench:"), spec.config, spec.split, spec.prompt, spec.folder)
            for name, spec in task_specs(data_path()).items()]


TASKS_TABLE = tasks_table()  # `--custom-tasks spinebench_hf.evaluation.lighteval_task` works as tasks/spinebench.py does
