"""`spinebench sweep`: every model of a SWEEP.yaml on every task in it, resumable, with nothing lost.

Per model, the questions of all its tasks (the same prompt and image as the lighteval task, read straight from the
dataset's parquet files) share one queue of `concurrency` requests. Replies come from the response cache where they
are stored, else from the model's backend, and each is stored as soon as it arrives (`response_cache`). A request
that still fails after its retries is `failed`: never stored, never scored, asked again by the next run; a model
with failed questions is incomplete and makes the sweep exit non-zero. Replies are scored by `metrics.score_reply`,
as every harness of ours scores them, and written as lighteval-style per-sample details
(`<DIR>/details/<model>/sweep/details_<task>|0_sweep.parquet`) naming the dataset folder their images are in, so
`spinebench report` and the rating kit read sweeps and lighteval runs alike. An `openai`, `vllm`, `server`,
`random` or `healthy` entry imports neither torch nor lighteval: the first request leaves at once.

Backends: `openai` (any OpenAI-compatible server; the image is sent as the file's own bytes), `vllm` (`vllm serve
MODEL ...` started, used through the openai backend, stopped), `server` (any command, same), `baseline` (the
weight-free baselines) and `transformers` (lighteval's in-process VLM backend, run through `spinebench eval`; it
has lighteval's own caching, not this response cache).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from .. import __version__
from ..dataset_files import dataset_fingerprint, read_rows
from ..errors import SpineBenchError
from ..metrics import METRIC_NAMES, TASKS, score_reply
from ..prompts import build_prompt
from ..schema import FAILED_STAGE, SWEEP_RUN_FILE
from ..settings import api_key
from .docs import BLIND, blank_png, specific, task_folder
from .judge import configured_judge
from .response_cache import ResponseCache, reply_key

if TYPE_CHECKING:
    from .sweep_backends import Backend
    from .sweep_config import Sweep


@dataclass
class Question:
    """One question as the sweep asks it."""

    task: str  # the task's name, spinebench:...
    prompt: str
    image: bytes  # the image file as sent
    specific: dict  # the row's fields, then the reply and what was read from it
    key: str  # in the response cache


@dataclass
class TaskRun:
    """What happened to one model's questions of one task: the summary table's row."""

    model: str
    task: str
    questions: int = 0
    cached: int = 0
    new: int = 0
    failed: int = 0
    seconds: float = 0.0  # the model's span: all its tasks share one queue
    completion_tokens: int = 0

    @property
    def complete(self) -> bool:
        """Whether every question got a reply."""
        return self.failed == 0


Reply = str | Exception  # a reply, or why the request failed
Answerer = Callable[[list[Question]], Iterator[tuple[Question, Reply, int | None]]]


def questions_of(sweep: Sweep, task: str, identity: str, fingerprint: str) -> list[Question]:
    """The task's questions, read straight from the dataset's parquet files: the verbatim prompt and the image
    file as stored (a grey PNG for the image-blind variant), as the lighteval task asks them."""
    info = TASKS[task]
    folder = task_folder(sweep.dataset, info)
    found = []
    for row in read_rows(folder, info.config, info.split):
        image = row["image"]["bytes"] if info.variant != BLIND else blank_png(row["image"]["bytes"])
        prompt = build_prompt(row)
        fields = specific(row) | {"dataset": folder, "config": info.config, "split": info.split}
        found.append(
            Question(
                task,
                prompt,
                image,
                fields,
                reply_key(fingerprint, row["id"], identity, sweep.generation, prompt, image),
            )
        )
    return found


def run_model(
    entry: Backend,
    answer: Answerer,
    sweep: Sweep,
    cache: ResponseCache,
    fingerprint: str,
    output: Path,
    progress: bool,
) -> list[TaskRun]:
    """Every task of the sweep for one model, through one queue: the questions not in the cache, of all tasks
    together, are asked `concurrency` at a time; each reply is stored as it arrives. Then the details per task."""
    identity = entry.identity()
    questions = {task: questions_of(sweep, task, identity, fingerprint) for task in sweep.tasks}
    runs = {task: TaskRun(entry.name, task, questions=len(found)) for task, found in questions.items()}
    everything = [question for found in questions.values() for question in found]
    replies = {key: reply for key, (reply, _) in cache.get_many([q.key for q in everything]).items()}
    missing = [question for question in everything if question.key not in replies]
    for question in everything:
        runs[question.task].cached += question.key in replies
    bar = tqdm(total=len(everything), initial=len(everything) - len(missing), desc=entry.name, disable=not progress)
    start, failures = time.monotonic(), {}
    for question, reply, tokens in answer(missing) if missing else ():
        run = runs[question.task]
        if isinstance(reply, Exception):
            failures[question.key] = str(reply)
            run.failed += 1
        else:
            cache.put(question.key, identity, question.specific["id"], reply, tokens)
            replies[question.key] = reply
            run.new += 1
            run.completion_tokens += tokens or 0
        bar.update()
        bar.set_postfix(failed=sum(r.failed for r in runs.values()), refresh=False)
    bar.close()
    for task, run in runs.items():
        run.seconds = time.monotonic() - start
        write_details(entry.name, task, questions[task], replies, failures, output)
    write_run_file(entry, sweep, fingerprint, output)
    return list(runs.values())


def write_run_file(entry: Backend, sweep: Sweep, fingerprint: str, output: Path) -> Path:
    """Beside the model's details: what produced its replies (backend, generation settings, dataset), for the
    report and `spinebench publish`. The server's address and command are not written: they may be private."""
    path = output / "details" / entry.name / "sweep" / SWEEP_RUN_FILE
    run = {"spinebench_hf": __version__, "backend": entry.backend, "model": getattr(entry, "model", None),
           "generation": sweep.generation, "dataset": str(sweep.dataset), "fingerprint": fingerprint}  # fmt: skip
    path.write_text(json.dumps(run, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_details(
    model: str, task: str, questions: list[Question], replies: dict[str, str], failures: dict[str, str], output: Path
) -> Path:
    """Every question scored by `metrics.score_reply`, as lighteval's details (what `spinebench report` reads); a
    failed one holds no score. The image is not copied: each row names the dataset folder it is read from."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    config, judge, rows = TASKS[task].config, configured_judge(), []
    for question in questions:
        fields = dict(question.specific)
        metric: dict[str, float | None]
        if question.key in replies:
            scored = score_reply(replies[question.key], config, fields["options"], fields["answer"], judge)
            fields.update(
                reply=replies[question.key], extracted=list(scored.letters or ()), extraction_stage=scored.stage
            )
            fields |= {"judge": scored.judge} if scored.judge else {}
            metric = dict(scored.scores)
        else:
            fields.update(reply="", extracted=[], extraction_stage=FAILED_STAGE, error=failures.get(question.key, ""))
            metric = {name: None for name in METRIC_NAMES[config]}
        rows.append(
            {
                "doc": {"task_name": f"{task}|0", "query": question.prompt, "specific": fields},
                "model_response": {"input": question.prompt, "text": [fields["reply"]]},
                "metric": metric,
            }
        )
    path = output / "details" / model / "sweep" / f"details_{task}|0_sweep.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def run_sweep(sweep: Sweep, output: str | Path, progress: bool = True) -> list[TaskRun]:
    """Every model on every task; returns one TaskRun per model and task (see `summary`)."""
    output = Path(output)
    fingerprint = dataset_fingerprint(sweep.dataset)
    check_keys(sweep)
    cache = ResponseCache(output / "responses.sqlite")
    results: list[TaskRun] = []
    try:
        for entry in sweep.models:
            try:
                results += entry.run(sweep, output, cache, fingerprint, progress)
            except SpineBenchError as exc:  # its server never answered: every question of it failed, the sweep goes on
                print(f"spinebench sweep: {entry.name}: {exc}", file=sys.stderr)
                done = {run.task for run in results if run.model == entry.name}
                results += [TaskRun(entry.name, task, failed=1) for task in sweep.tasks if task not in done]
    finally:
        cache.close()
    return results


def check_keys(sweep: Sweep) -> None:
    """Before any request: every `api_key_env` a model names is set (an unset one would send no key, and collect
    a 401 per question)."""
    for index, entry in enumerate(sweep.models):
        variable = getattr(entry, "api_key_env", None)
        if variable and api_key(variable) is None:
            raise SpineBenchError(
                f"{sweep.path}: models[{index}] ({entry.name}): api_key_env names {variable}, which "
                "is not set in this environment: export it (the key is never written anywhere)"
            )


def summary(results: list[TaskRun]) -> list[list]:
    """A row per model and task: questions, from cache, new, failed, wall time, tokens per second."""
    return [
        [
            run.model,
            run.task,
            run.questions,
            run.cached,
            run.new,
            run.failed,
            f"{run.seconds:.1f}",
            f"{run.completion_tokens / run.seconds:.1f}" if run.completion_tokens and run.seconds else "-",
        ]
        for run in results
    ]


SUMMARY_COLUMNS = ["model", "task", "questions", "from cache", "new", "failed", "wall (s)", "tokens/s"]
