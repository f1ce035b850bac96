"""SWEEP.yaml: the dataset, the tasks, the generation settings and the models of `spinebench sweep`.

    dataset: ./spinebench            # a folder from spinebench build or import-release
    tasks: [spinebench:diagnosis, spinebench:localization]
    generation: {max_new_tokens: 1024, temperature: 0}
    models:
      - {name: qwen2.5-vl-7b, backend: vllm, model: Qwen/Qwen2.5-VL-7B-Instruct, serve_args: [--tensor-parallel-size, "2"]}
      - {name: gpt-4o, backend: openai, model: gpt-4o-2024-11-20, base_url: "https://api.example/v1",
         api_key_env: OPENAI_API_KEY, concurrency: 16}
      - {name: local, backend: server, command: [python, my_server.py], ready_url: "http://127.0.0.1:8000/v1/models",
         base_url: "http://127.0.0.1:8000/v1", model: my-model}
      - {name: random, backend: baseline, baseline: random}
      - {name: small-vlm, backend: transformers, model: ORG/VLM, batch_size: 4}

An error names the file, the line and the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import SpineBenchError
from ..metrics import TASK_PREFIX, TASKS
from ..settings import GENERATION_SIZE

BASELINES = {"random": "random_baseline", "healthy": "healthy_baseline", "nearest-neighbour": "nearest_neighbour"}
# backend -> (required keys, optional keys) besides name and backend
BACKENDS = {
    "openai": ({"model", "base_url"}, {"api_key_env", "concurrency", "timeout", "retries"}),
    "vllm": ({"model"}, {"serve_args", "port", "ready_timeout", "concurrency", "timeout", "retries"}),
    "server": (
        {"command", "ready_url", "base_url", "model"},
        {"ready_timeout", "api_key_env", "concurrency", "timeout", "retries"},
    ),
    "baseline": ({"baseline"}, set()),
    "transformers": ({"model"}, {"batch_size", "model_args"}),
}


# the type of each setting: a wrong one is an error naming the field, not a crash halfway through the sweep
TEXT = "a string"
WORDS = "a list of strings"
COUNT = "a whole number >= 1"
TRIES = "a whole number >= 0"
SECONDS = "a number of seconds > 0"
SETTING_TYPES = {
    "model": TEXT,
    "base_url": TEXT,
    "api_key_env": TEXT,
    "ready_url": TEXT,
    "model_args": TEXT,
    "baseline": TEXT,
    "command": WORDS,
    "serve_args": WORDS,
    "concurrency": COUNT,
    "port": COUNT,
    "batch_size": COUNT,
    "retries": TRIES,
    "timeout": SECONDS,
    "ready_timeout": SECONDS,
}
# what produces an entry's replies (besides its backend): two entries alike in these would get the same replies
IDENTITY = {
    "openai": ("model", "base_url"),
    "vllm": ("model", "serve_args"),
    "server": ("command", "base_url", "model"),
    "baseline": ("baseline",),
    "transformers": ("model", "model_args"),
}
# a model's name is a folder of the output (details/<name>/): letters, digits and . _ + - only, never . or ..
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def type_error(kind: str, value: object) -> str | None:
    """Why `value` is not of the setting type `kind`, or None when it is."""
    fits = {
        TEXT: isinstance(value, str) and bool(value.strip()),
        WORDS: isinstance(value, list) and all(isinstance(word, str) for word in value),
        COUNT: isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        TRIES: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        SECONDS: isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0,
    }[kind]
    return None if fits else f"expected {kind}, found {value!r}"


class SweepError(SpineBenchError):
    """SWEEP.yaml does not describe a sweep; the message names the file, line and field."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    backend: str
    options: dict  # the entry's other keys, checked against BACKENDS

    def get(self, key: str, default=None):
        return self.options.get(key, default)


def model_identity(entry: ModelEntry) -> str:
    """What produces an entry's replies, for the response cache: the backend and the model, with the server it is
    asked on (an API's base URL, a `server`'s command) or vLLM's settings for it. The entry's name is not part of
    it: renaming an entry keeps its replies; two entries with one identity are refused by `load_sweep`."""
    return json.dumps([entry.backend, *(entry.get(key) for key in IDENTITY[entry.backend])])


@dataclass(frozen=True)
class Sweep:
    dataset: Path
    tasks: tuple[str, ...]
    max_new_tokens: int
    temperature: float
    models: tuple[ModelEntry, ...] = field(default_factory=tuple)
    path: Path = Path("SWEEP.yaml")  # the file it was read from, named in errors

    @property
    def generation(self) -> dict:
        return {"max_new_tokens": self.max_new_tokens, "temperature": self.temperature}


def _line(node: yaml.Node | None) -> str:
    return f"line {node.start_mark.line + 1}" if node is not None else "the top"


def _child(node: yaml.Node | None, key) -> yaml.Node | None:
    """The YAML node under `key` (a mapping key or a list index), for the line of an error."""
    if isinstance(node, yaml.MappingNode):
        return next((value for k, value in node.value if k.value == key), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def load_sweep(path: str | Path) -> Sweep:
    """The sweep in `path`; relative dataset folders are relative to the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        root, data = yaml.compose(text), yaml.safe_load(text)
    except OSError as exc:
        raise SweepError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SweepError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        raise SweepError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None

    def fail(where: list, message: str):
        node = root
        for key in where:
            node = _child(node, key)
        dotted = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")
        raise SweepError(f"{path}, {_line(node)}: {dotted or 'the file'}: {message}")

    if not isinstance(data, dict):
        fail([], "expected a mapping with dataset, tasks, generation and models")
    unknown = set(data) - {"dataset", "tasks", "generation", "models"}
    if unknown:
        fail([sorted(unknown)[0]], "unknown field; expected dataset, tasks, generation, models")
    if not isinstance(data.get("dataset"), str):
        fail(["dataset"], "expected the path of a folder from spinebench build or import-release")
    tasks = data.get("tasks", [f"{TASK_PREFIX}diagnosis", f"{TASK_PREFIX}localization"])
    if not isinstance(tasks, list) or not tasks:
        fail(["tasks"], "expected a list of task names such as spinebench:diagnosis")
    for index, task in enumerate(tasks):
        if not isinstance(task, str) or task.split("|")[0] not in TASKS:
            fail(["tasks", index], f"{task!r} is not a spinebench task: expected one of {', '.join(TASKS)}")
    generation = data.get("generation") or {}
    if not isinstance(generation, dict) or set(generation) - {"max_new_tokens", "temperature"}:
        fail(["generation"], "expected {max_new_tokens: N, temperature: T}")
    max_new_tokens, temperature = generation.get("max_new_tokens", GENERATION_SIZE), generation.get("temperature", 0)
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        fail(["generation", "max_new_tokens"], f"expected a positive integer, found {max_new_tokens!r}")
    if not isinstance(temperature, (int, float)) or temperature < 0:
        fail(["generation", "temperature"], f"expected a number >= 0, found {temperature!r}")
    models = data.get("models")
    if not isinstance(models, list) or not models:
        fail(["models"], "expected a list of models, each with a name and a backend")
    entries, names, identities = [], set(), {}
    for index, model in enumerate(models):
        entry = _model_entry(model, index, names, fail)
        same = identities.setdefault(model_identity(entry), index)
        if same != index:
            fail(
                ["models", index],
                f"the same model as models[{same}] ({entries[same].name}): the same backend and "
                f"{', '.join(IDENTITY[entry.backend])}; two entries of a sweep never share replies, so list it once",
            )
        entries.append(entry)
    dataset = Path(data["dataset"])
    return Sweep(
        dataset if dataset.is_absolute() else path.parent / dataset,
        tuple(t.split("|")[0] for t in tasks),
        max_new_tokens,
        float(temperature),
        tuple(entries),
        path,
    )


def _model_entry(model, index: int, names: set, fail) -> ModelEntry:
    where = ["models", index]
    if not isinstance(model, dict):
        fail(where, "expected a mapping such as {name: ..., backend: ...}")
    name, backend = model.get("name"), model.get("backend")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        fail(
            where + ["name"] if "name" in model else where,
            f"every model needs a name of letters, digits and . _ + - "
            f"(not starting with . or -; it names the model's folder of results); found {name!r}",
        )
    if name in names:
        fail(where + ["name"], f"{name!r} is used twice")
    names.add(name)
    if backend not in BACKENDS:
        fail(
            where + ["backend"] if "backend" in model else where,
            f"backend {backend!r} is not one of {sorted(BACKENDS)}",
        )
    required, optional = BACKENDS[backend]
    options = {k: v for k, v in model.items() if k not in ("name", "backend")}
    missing = sorted(required - set(options))
    if missing:
        fail(where, f"the {backend} backend needs {', '.join(missing)}")
    extra = sorted(set(options) - required - optional)
    if extra:
        fail(where + [extra[0]], f"not a setting of the {backend} backend; it takes {sorted(required | optional)}")
    for key, value in options.items():
        if problem := type_error(SETTING_TYPES[key], value):
            fail(where + [key], problem)
    if backend == "baseline" and options["baseline"] not in BASELINES:
        fail(where + ["baseline"], f"{options['baseline']!r} is not one of {sorted(BASELINES)}")
    if "command" in options and not options["command"]:
        fail(where + ["command"], "expected the command that starts the server, e.g. [python, my_server.py]")
    return ModelEntry(name, backend, options)
