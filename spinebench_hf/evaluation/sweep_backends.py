"""The sweep's backends: one class each, holding its SWEEP.yaml settings (a pydantic model, `extra="forbid"`), its
identity for the response cache, and how it answers (or runs). Adding a backend is one new class here, registered in
`BACKENDS`.

- `openai`: any OpenAI-compatible server; the image is sent as the file's own bytes, after the prompt.
- `vllm`: `vllm serve MODEL --port N SERVE_ARGS` started, used as `openai`, stopped (vLLM does the batching).
- `server`: any command that starts an OpenAI-compatible server, the same way.
- `baseline`: the weight-free baselines (`random` and `healthy` import no harness; `nearest-neighbour` needs the
  encoder).
- `transformers`: lighteval's in-process VLM backend through `spinebench eval` (lighteval's own caching, not ours).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..errors import SpineBenchError
from ..settings import API_DEFAULTS, LOCAL_SERVER_DEFAULTS, SERVER_START_TIMEOUT, ServerSettings, api_key
from .model_servers import free_port, running_server
from .sweep import Answerer, Question, Reply, TaskRun, run_model

if TYPE_CHECKING:
    from .response_cache import ResponseCache
    from .sweep_config import Sweep

# a model's name is a folder of the output (details/<name>/): letters, digits and . _ + - only, never . or ..
ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Count = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(gt=0)]


class Backend(BaseModel):
    """What every model entry has: a name (the folder of its results) and a backend."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    identity_fields: ClassVar[tuple[str, ...]] = ()  # what produces its replies, besides the backend
    name: ModelName
    backend: str

    def identity(self) -> str:
        """What makes two runs the same model for the response cache (the name is not part of it: renaming an entry
        keeps its replies; two entries of one identity are refused by `load_sweep`)."""
        return json.dumps([self.backend, *(getattr(self, field) for field in self.identity_fields)])

    def run(self, sweep: Sweep, output: Path, cache: ResponseCache, fingerprint: str, progress: bool) -> list[TaskRun]:
        """Every task of the sweep for this model, through the shared queue (`sweep.run_model`).

        Raises:
            SpineBenchError: the model's server never became ready (every question then counts as failed).
        """
        with self.answerer(sweep, output) as answer:
            return run_model(self, answer, sweep, cache, fingerprint, output, progress)

    @contextlib.contextmanager
    def answerer(self, sweep: Sweep, output: Path) -> Iterator[Answerer]:
        """The answering function, valid inside the block (a server of ours is running there)."""
        raise NotImplementedError(f"{type(self).__name__} answers through its own run()")


class _Served(Backend):
    """A model behind an OpenAI-compatible API: how many requests at once, how long each, how many retries."""

    defaults: ClassVar[ServerSettings] = API_DEFAULTS
    concurrency: Count | None = None
    timeout: Seconds | None = None
    retries: Annotated[int, Field(ge=0)] | None = None

    def server(self, base_url: str, key_variable: str | None = None) -> ServerSettings:
        """The settings of requests to `base_url`: the entry's, else the defaults of its kind of server."""
        return ServerSettings(
            base_url=base_url, api_key=api_key(key_variable) or "EMPTY",
            concurrency=self.concurrency or self.defaults.concurrency,
            timeout=float(self.timeout or self.defaults.timeout),
            retries=self.defaults.retries if self.retries is None else self.retries,
        )  # fmt: skip


class OpenAIBackend(_Served):
    """Any OpenAI-compatible server, hosted or local."""

    identity_fields = ("model", "base_url")
    backend: Literal["openai"]
    model: Text
    base_url: Text
    api_key_env: Text | None = None

    @contextlib.contextmanager
    def answerer(self, sweep: Sweep, output: Path) -> Iterator[Answerer]:
        """Requests to `base_url`."""
        yield openai_answerer(self.name, self.model, sweep, self.server(self.base_url, self.api_key_env))


class VllmBackend(_Served):
    """`vllm serve MODEL`, started for the sweep and stopped after it."""

    defaults = LOCAL_SERVER_DEFAULTS
    identity_fields = ("model", "serve_args")
    backend: Literal["vllm"]
    model: Text
    serve_args: list[str] = Field(default_factory=list)
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    ready_timeout: Seconds = SERVER_START_TIMEOUT

    @contextlib.contextmanager
    def answerer(self, sweep: Sweep, output: Path) -> Iterator[Answerer]:
        """vLLM serving the model on a free port, asked as an OpenAI-compatible server."""
        port = self.port or free_port()
        command = ["vllm", "serve", self.model, "--port", str(port), *self.serve_args]
        base_url = f"http://127.0.0.1:{port}/v1"
        with running_server(command, f"{base_url}/models", timeout=self.ready_timeout,
                            log=output / "servers" / f"{self.name}.log"):  # fmt: skip
            yield openai_answerer(self.name, self.model, sweep, self.server(base_url))


class ServerBackend(_Served):
    """Any command that starts an OpenAI-compatible server."""

    defaults = LOCAL_SERVER_DEFAULTS
    identity_fields = ("command", "base_url", "model")
    backend: Literal["server"]
    command: list[str] = Field(min_length=1)
    ready_url: Text
    base_url: Text
    model: Text
    api_key_env: Text | None = None
    ready_timeout: Seconds = SERVER_START_TIMEOUT

    @contextlib.contextmanager
    def answerer(self, sweep: Sweep, output: Path) -> Iterator[Answerer]:
        """The command's server, once `ready_url` answers."""
        with running_server(self.command, self.ready_url, timeout=self.ready_timeout,
                            log=output / "servers" / f"{self.name}.log"):  # fmt: skip
            yield openai_answerer(self.name, self.model, sweep, self.server(self.base_url, self.api_key_env))


class BaselineBackend(Backend):
    """A weight-free baseline."""

    identity_fields = ("baseline",)
    backend: Literal["baseline"]
    baseline: Literal["random", "healthy", "nearest-neighbour"]

    @contextlib.contextmanager
    def answerer(self, sweep: Sweep, output: Path) -> Iterator[Answerer]:
        """The baseline's replies, in the paper's answer format."""
        if self.baseline == "nearest-neighbour":
            yield nearest_neighbour_answerer(self.name, sweep)
        else:
            yield rule_answerer(self.baseline)


class TransformersBackend(Backend):
    """A Hugging Face VLM in lighteval's own process (`spinebench eval accelerate`)."""

    identity_fields = ("model", "model_args")
    backend: Literal["transformers"]
    model: Text
    batch_size: Count = 1
    model_args: Text | None = None

    def run(self, sweep: Sweep, output: Path, cache: ResponseCache, fingerprint: str, progress: bool) -> list[TaskRun]:
        """lighteval runs every task; its details are moved under the entry's name."""
        return run_transformers(self, sweep, output)


BACKENDS: dict[str, type[Backend]] = {
    cls.model_fields["backend"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (OpenAIBackend, VllmBackend, ServerBackend, BaselineBackend, TransformersBackend)
}


# --- how they answer ---------------------------------------------------------------------------------------------
def openai_answerer(name: str, model: str, sweep: Sweep, server: ServerSettings) -> Answerer:
    """Questions asked `concurrency` at a time. After a 401/403 no further request of this model is sent: every
    question left fails with the server's message, and the sweep goes on to the next model."""
    from .openai_chat import AccessDenied, chat_messages, client_for, complete

    client = client_for(server)
    denied: list[AccessDenied] = []

    def ask(question: Question) -> tuple[str, int | None]:
        if denied:
            raise denied[0]
        messages = chat_messages(question.prompt, image_files=[question.image])
        try:
            return complete(client, model, messages, sweep.max_new_tokens, server.base_url or "", sweep.temperature)
        except AccessDenied as exc:
            if not denied:
                denied.append(exc)
                print(f"spinebench sweep: {name}: {exc}; no further request is sent for it", file=sys.stderr)
            raise

    def answer(questions: list[Question]) -> Iterator[tuple[Question, Reply, int | None]]:
        yield from asked_in_slots(ask, questions, server.concurrency)

    return answer


def asked_in_slots(
    ask: Callable[[Question], tuple[str, int | None]], questions: list[Question], concurrency: int
) -> Iterator[tuple[Question, Reply, int | None]]:
    """`ask` each question from `concurrency` threads; yield (question, reply or SpineBenchError, tokens) as they come.

    A slot is freed only once the caller has taken (and stored) the reply: a worker never asks its next question
    while a reply it received waits unstored, so a sweep killed at any moment loses at most `concurrency` replies
    (those in flight), however slow the storing.
    """
    slots, stopping = threading.Semaphore(concurrency), threading.Event()

    def in_slot(question: Question) -> tuple[str, int | None]:
        slots.acquire()
        if stopping.is_set():
            raise SpineBenchError("the sweep stopped before this question was asked")
        return ask(question)

    pool = ThreadPoolExecutor(concurrency)
    futures = {pool.submit(in_slot, question): question for question in questions}
    try:
        for future in as_completed(futures):
            try:
                reply, tokens = future.result()
                yield futures[future], reply, tokens
            except SpineBenchError as exc:
                yield futures[future], exc, None
            slots.release()
    finally:
        stopping.set()
        for _ in range(concurrency):  # wake the workers waiting for a slot: they ask nothing more
            slots.release()
        pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: what was answered is already stored


def rule_answerer(baseline: str) -> Answerer:
    """`random` or `healthy`: no harness, no weights."""
    from ..settings import baseline_seed
    from .baseline_rules import answer_reply, healthy_letters, random_letters

    seed = baseline_seed()

    def letters(question: Question) -> tuple[str, ...]:
        fields = question.specific
        if baseline == "random":
            return random_letters(fields["id"], fields["task"], len(fields["options"]), seed)
        return healthy_letters(fields["options"], fields["task"])

    def answer(questions: list[Question]) -> Iterator[tuple[Question, Reply, int | None]]:
        yield from ((q, answer_reply(letters(q), q.specific["task"]), None) for q in questions)

    return answer


def nearest_neighbour_answerer(name: str, sweep: Sweep) -> Answerer:
    """The nearest-neighbour baseline through its lighteval model class (it needs the encoder)."""
    from lighteval.models.custom.custom_model import CustomModelConfig
    from lighteval.tasks.requests import Doc
    from PIL import Image

    from .baselines import NearestNeighbourBaseline
    from .lighteval_models import model_file

    config = CustomModelConfig(model_name=name, model_definition_file_path=str(model_file("nearest_neighbour")))
    model = NearestNeighbourBaseline(config, data=str(sweep.dataset))

    def doc(question: Question) -> Doc:
        image = Image.open(io.BytesIO(question.image))
        return Doc(query=question.prompt, choices=[], gold_index=0, specific=question.specific, images=[image])

    def answer(questions: list[Question]) -> Iterator[tuple[Question, Reply, int | None]]:
        for start in range(0, len(questions), 64):
            batch = questions[start : start + 64]
            yield from ((q, reply, None) for q, reply in zip(batch, model.replies([doc(q) for q in batch])))

    return answer


def run_transformers(entry: TransformersBackend, sweep: Sweep, output: Path) -> list[TaskRun]:
    """lighteval's in-process VLM backend, through `spinebench eval accelerate`; its details moved under the name."""
    runs = output / "runs" / entry.name
    shutil.rmtree(runs, ignore_errors=True)
    model_args = ",".join(
        [
            f"model_name={entry.model}",
            f"generation_size={sweep.max_new_tokens}",
            f"batch_size={entry.batch_size}",
            *([entry.model_args] if entry.model_args else []),
        ]
    )
    tasks = ",".join(f"{task}|0" for task in sweep.tasks)
    command = [sys.executable, "-m", "spinebench_hf.cli", "eval", "accelerate", model_args, tasks,
               "--custom-tasks", "spinebench_hf.evaluation.lighteval_task", "--vision-model",
               "--output-dir", str(runs), "--save-details"]  # fmt: skip
    start = time.monotonic()
    log = output / "servers" / f"{entry.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as handle:
        environment = dict(os.environ, SPINEBENCH_DATA=str(sweep.dataset.resolve()))
        done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, env=environment)
    target = output / "details" / entry.name / "transformers"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in runs.rglob("details_spinebench:*.parquet"):
        shutil.move(path, target / path.name)
    seconds = time.monotonic() - start
    found = {path.name.split("|")[0].removeprefix("details_") for path in target.iterdir()}
    failed = {task: 0 if done.returncode == 0 and task in found else 1 for task in sweep.tasks}
    return [TaskRun(entry.name, task, failed=failed[task], seconds=seconds) for task in sweep.tasks]
