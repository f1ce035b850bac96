"""The lighteval side: dataset rows → Docs with the image; replies → extracted letters → scores.

`tasks/spinebench.py` exposes `TASKS_TABLE` from here. Per sample, `doc.specific` records the item id, the raw
reply, the extracted letters and the extraction stage (saved with `--save-details`; the prompt is in
`model_response.input`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from lighteval.metrics.metrics_sample import SampleLevelComputation
from lighteval.metrics.utils.metric_utils import SampleLevelMetricGrouping
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc, SamplingMethod

from ..metrics import METRIC_NAMES, TASKS, score_reply
from ..prompts import LETTERS, build_prompt
from ..schema import EVALUATION_SPLITS
from ..settings import GENERATION_SIZE, data_path
from .docs import BLIND, blank_like, specific, task_folder
from .judge import configured_judge


def spinebench_doc(line: dict, task_name: str) -> Doc:
    """A dataset row → a Doc: the verbatim prompt, the image, gold letters as indices into A–E."""
    return Doc(
        task_name=task_name,
        query=build_prompt(line),
        choices=list(LETTERS[: len(line["options"])]),
        gold_index=[LETTERS.index(letter) for letter in line["answer"]],
        images=[line["image"]],
        specific=specific(line),
    )


def reply_text(model_response) -> str:
    """The raw reply, whatever shape the backend returned (0.13's VLM backend: a bare str). The parser removes
    reasoning itself, so the record keeps the reply as the model wrote it."""
    text = model_response.text
    if isinstance(text, str):
        return text
    return text[0] if text else ""


class SpineBenchScore(SampleLevelComputation):
    """lighteval's side of `metrics.score_reply`: records the reply, the letters and how they were read in
    doc.specific (saved with --save-details)."""

    def __init__(self, task: str):
        self.task = task

    def compute(self, doc: Doc, model_response, **kwargs) -> dict[str, float]:
        """Score one reply (the judge as SPINEBENCH_JUDGE configures it) and record how it was read in the Doc."""
        reply = reply_text(model_response)
        fields = doc.specific
        if fields is None:  # every Doc of ours carries them (spinebench_doc)
            raise ValueError(f"{doc.task_name}: a Doc without its item's fields (doc.specific)")
        scored = score_reply(reply, self.task, fields["options"], fields["answer"], configured_judge())
        if scored.judge:
            fields["judge"] = scored.judge
        fields.update(reply=reply, extracted=list(scored.letters or ()), extraction_stage=scored.stage)
        return scored.scores


def spinebench_metric(task: str) -> SampleLevelMetricGrouping:
    """The metric group of a task: every name of METRIC_NAMES[task], each averaged over the samples."""
    names = list(METRIC_NAMES[task])
    better: dict[str, Any] = {name: True for name in names}  # lighteval 0.13 annotates these values as callables
    return SampleLevelMetricGrouping(
        metric_name=names,
        higher_is_better=better,
        category=SamplingMethod.GENERATIVE,
        sample_level_fn=SpineBenchScore(task),
        corpus_level_fn={name: np.mean for name in names},
    )


def task_config(
    name: str, config: str, split: str, prompt=spinebench_doc, repo: str | None = None
) -> LightevalTaskConfig:
    """The lighteval config of task `spinebench:<name>`: zero-shot, generative, on `repo` (default SPINEBENCH_DATA)."""
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
    """What a lighteval task reads (config, split, dataset folder) and how a row becomes its Doc."""

    config: str
    split: str
    prompt: Callable[[dict, str], Doc]
    folder: str  # the dataset folder the task reads


def task_specs(data: str) -> dict[str, TaskSpec]:
    """Every task of `metrics.TASKS` over the dataset folder `data` (the circular one reads the rotated copy that
    `spinebench eval --circular` writes beside it)."""
    return {
        name: TaskSpec(
            info.config, info.split, blind_doc if info.variant == BLIND else spinebench_doc, task_folder(data, info)
        )
        for name, info in TASKS.items()
    }


def tasks_table() -> list[LightevalTaskConfig]:
    """Every task's lighteval config over the dataset folder in SPINEBENCH_DATA (read now)."""
    return [
        task_config(name.removeprefix("spinebench:"), spec.config, spec.split, spec.prompt, spec.folder)
        for name, spec in task_specs(data_path()).items()
    ]


TASKS_TABLE = (
    tasks_table()
)  # `--custom-tasks spinebench_hf.evaluation.lighteval_task` works as tasks/spinebench.py does
