"""SWEEP.yaml: the dataset, the tasks, the generation settings and the models of `spinebench sweep`.

    dataset: ./spinebench            # a folder from spinebench build or import-release
    tasks: [spinebench:diagnosis, spinebench:localization]
    generation: {max_new_tokens: 1024, temperature: 0}
    models:
      - {name: qwen2.5-vl-7b, backend: vllm, model: Qwen/Qwen2.5-VL-7B-Instruct,
         serve_args: [--tensor-parallel-size, "2"]}
      - {name: gpt-4o, backend: openai, model: gpt-4o-2024-11-20, base_url: "https://api.example/v1",
         api_key_env: OPENAI_API_KEY, concurrency: 16}
      - {name: local, backend: server, command: [python, my_server.py], ready_url: "http://127.0.0.1:8000/v1/models",
         base_url: "http://127.0.0.1:8000/v1", model: my-model}
      - {name: random, backend: baseline, baseline: random}
      - {name: small-vlm, backend: transformers, model: ORG/VLM, batch_size: 4}

The file is validated by pydantic models (`SweepFile` here, one class per backend in `sweep_backends.py`, all with
`extra="forbid"`); an error names the file, the line and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import SpineBenchError
from ..metrics import TASK_PREFIX, TASKS
from ..settings import GENERATION_SIZE
from .sweep_backends import BACKENDS, Backend


class SweepError(SpineBenchError):
    """SWEEP.yaml does not describe a sweep; the message names the file, line and field."""


class Generation(BaseModel):
    """`generation:` of SWEEP.yaml."""

    model_config = ConfigDict(extra="forbid", strict=True)
    max_new_tokens: int = Field(GENERATION_SIZE, ge=1)
    temperature: float = Field(0.0, ge=0)


class SweepFile(BaseModel):
    """The top level of SWEEP.yaml; each model entry is checked by its backend's class."""

    model_config = ConfigDict(extra="forbid", strict=True)
    dataset: str
    tasks: list[str] = Field(
        default_factory=lambda: [f"{TASK_PREFIX}diagnosis", f"{TASK_PREFIX}localization"], min_length=1
    )
    generation: Generation = Field(default_factory=lambda: Generation())
    models: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the dataset folder, the task names, the generation settings and the model entries."""

    dataset: Path
    tasks: tuple[str, ...]
    max_new_tokens: int
    temperature: float
    models: tuple[Backend, ...] = field(default_factory=tuple)
    path: Path = Path("SWEEP.yaml")  # the file it was read from, named in errors

    @property
    def generation(self) -> dict:
        """The generation settings, as the response cache keys them."""
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


class _Locator:
    """Turns a path of keys into "FILE, line N: a.b[2].c: message"."""

    def __init__(self, path: Path, root: yaml.Node | None):
        self.path, self.root = path, root

    def error(self, where: list, message: str) -> SweepError:
        node = self.root
        for key in where:
            node = _child(node, key) if _child(node, key) is not None or not isinstance(key, str) else node
        dotted = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")
        return SweepError(f"{self.path}, {_line(node)}: {dotted or 'the file'}: {message}")

    def from_validation(self, exc: ValidationError, prefix: list, backend: str | None = None) -> SweepError:
        """The first problem pydantic found, located."""
        problem = exc.errors()[0]
        where = [*prefix, *(key for key in problem["loc"] if key not in ("function-after",))]
        if problem["type"] == "missing":
            return self.error(
                where[:-1], f"{'the ' + backend + ' backend' if backend else 'the file'} needs {where[-1]}"
            )
        if problem["type"] == "extra_forbidden":
            known = sorted(BACKENDS[backend].model_fields) if backend else sorted(SweepFile.model_fields)
            return self.error(
                where,
                f"not a setting of {'the ' + backend + ' backend' if backend else 'a sweep'}; "
                f"expected one of {', '.join(known)}",
            )
        if problem["type"] == "string_pattern_mismatch" and where[-1] == "name":
            return self.error(
                where,
                "every model needs a name of letters, digits and . _ + - (not starting with . or "
                f"-; it names the folder of its results), found {problem.get('input')!r}",
            )
        return self.error(where, f"{problem['msg']}, found {problem.get('input')!r}")


def load_sweep(path: str | Path) -> Sweep:
    """The sweep in `path`; a relative dataset folder is relative to the file.

    Raises:
        SweepError: the file cannot be read, is not YAML, or does not describe a sweep (the message names the line
            and the field).
    """
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
    locate = _Locator(path, root)
    if not isinstance(data, dict):
        raise locate.error([], "expected a mapping with dataset, tasks, generation and models")
    try:
        top = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise locate.from_validation(exc, []) from None
    for index, task in enumerate(top.tasks):
        if task.split("|")[0] not in TASKS:
            raise locate.error(
                ["tasks", index], f"{task!r} is not a spinebench task: expected one of {', '.join(TASKS)}"
            )
    models = _models(top.models, locate)
    dataset = Path(top.dataset)
    return Sweep(
        dataset if dataset.is_absolute() else path.parent / dataset,
        tuple(t.split("|")[0] for t in top.tasks),
        top.generation.max_new_tokens,
        float(top.generation.temperature),
        models,
        path,
    )


def _models(entries: list[dict], locate: _Locator) -> tuple[Backend, ...]:
    """Each entry validated by its backend's class; names unique, and no two entries that would share replies."""
    models: list[Backend] = []
    names: set[str] = set()
    identities: dict[str, int] = {}
    for index, entry in enumerate(entries):
        backend = entry.get("backend")
        if backend not in BACKENDS:
            raise locate.error(["models", index, "backend"], f"backend {backend!r} is not one of {sorted(BACKENDS)}")
        try:
            model = BACKENDS[backend].model_validate(entry)
        except ValidationError as exc:
            raise locate.from_validation(exc, ["models", index], backend) from None
        if model.name in names:
            raise locate.error(["models", index, "name"], f"{model.name!r} is used twice")
        same = identities.setdefault(model.identity(), index)
        if same != index:
            raise locate.error(
                ["models", index],
                f"the same model as models[{same}] ({models[same].name}): the same "
                f"backend and {', '.join(model.identity_fields)}; two entries of a "
                "sweep never share replies, so list it once",
            )
        names.add(model.name)
        models.append(model)
    return tuple(models)
