"""Every setting of the package in one place: the environment variables (all named `SPINEBENCH_*`), the cache
folder and the defaults that several commands share. Values are read when asked for, never at import."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import overload

DEFAULT_ENCODER = "ViT-B-16-SigLIP2"  # the paper's SigLIP2 (open_clip name)
DEFAULT_ENCODER_WEIGHTS = "webli"  # from the standard Hugging Face cache
DEFAULT_DATA = "spinebench"  # the folder `spinebench build` writes and the tasks read
DEFAULT_SEED = 0
DEFAULT_MAX_SIDE = 1024  # longest side of a standardized image
GENERATION_SIZE = 1024  # max new tokens (the paper's replies reason at length); generation_size=N overrides it


@dataclass(frozen=True)
class ServerSettings:
    """How to reach an OpenAI-compatible server."""

    base_url: str | None
    api_key: str = "EMPTY"
    concurrency: int = 8
    timeout: float = 120.0
    retries: int = 5


# The defaults, chosen per kind of server and written only here:
# - a hosted API (the `openai_chat` model, the judge, a sweep's `openai` entries): 8 requests in flight stay inside
#   the usual rate limits, and a reply of 1,024 tokens arrives well within 120 s;
# - a server of the sweep's own (`vllm`, `server`): vLLM batches what is in flight, so 32 keep it busy, and under
#   that load a long reply can take minutes (600 s); starting it (loading the weights) may take 30 minutes.
API_DEFAULTS = ServerSettings(base_url=None, concurrency=8, timeout=120.0, retries=5)
LOCAL_SERVER_DEFAULTS = ServerSettings(base_url=None, concurrency=32, timeout=600.0, retries=5)
SERVER_START_TIMEOUT = 1800.0


# name -> what it sets (README and `spinebench --help` list these)
VARIABLES = {
    "SPINEBENCH_DATA": "the dataset folder the lighteval tasks evaluate (default ./spinebench)",
    "SPINEBENCH_CACHE": (
        "extracted tar archives, standardized images, embeddings, judge verdicts (default ~/.cache/spinebench)"
    ),
    "SPINEBENCH_API_BASE": "the OpenAI-compatible server of the openai_chat model (or OPENAI_BASE_URL)",
    "SPINEBENCH_API_KEY": "its key (or OPENAI_API_KEY); never logged",
    "SPINEBENCH_API_CONCURRENCY": f"requests in flight at once ({API_DEFAULTS.concurrency})",
    "SPINEBENCH_API_TIMEOUT": f"seconds per request ({API_DEFAULTS.timeout:g})",
    "SPINEBENCH_API_RETRIES": (
        f"retries of 408/409/429/5xx and connection errors, with backoff ({API_DEFAULTS.retries})"
    ),
    "SPINEBENCH_JUDGE": "the judge: openai:MODEL or transformers:PATH (unset: no judge)",
    "SPINEBENCH_JUDGE_BASE": "the judge's server (default: SPINEBENCH_API_BASE)",
    "SPINEBENCH_JUDGE_KEY": "the judge's key (default: SPINEBENCH_API_KEY)",
    "SPINEBENCH_BASELINE_SEED": "seed of the random baseline and the nearest-neighbour libraries (0)",
    "SPINEBENCH_ENCODER": "open_clip encoder of the nearest-neighbour baseline (ViT-B-16-SigLIP2)",
    "SPINEBENCH_ENCODER_WEIGHTS": "its weights: webli, random or a file (webli)",
    "SPINEBENCH_NO_LIGHTEVAL_PATCHES": "1: apply none of the lighteval 0.13 fixes",
}


@overload
def _get(*names: str | None, default: str) -> str: ...


@overload
def _get(*names: str | None, default: None = None) -> str | None: ...


def _get(*names: str | None, default: str | None = None) -> str | None:
    """The first of `names` set to a non-empty value, else `default`."""
    return next((os.environ[name] for name in names if name and os.environ.get(name)), default)


def data_path() -> str:
    """The dataset folder the lighteval tasks evaluate (SPINEBENCH_DATA, default ./spinebench), made absolute."""
    return str(Path(_get("SPINEBENCH_DATA", default=DEFAULT_DATA)).resolve())


def cache_dir() -> Path:
    """The cache folder (SPINEBENCH_CACHE, default ~/.cache/spinebench); not created here."""
    return Path(_get("SPINEBENCH_CACHE", default=str(Path.home() / ".cache" / "spinebench")))


def _server(base_names: tuple[str, ...], key_names: tuple[str, ...]) -> ServerSettings:
    return ServerSettings(
        base_url=_get(*base_names),
        api_key=_get(*key_names, default="EMPTY"),
        concurrency=int(_get("SPINEBENCH_API_CONCURRENCY", default=str(API_DEFAULTS.concurrency))),
        timeout=float(_get("SPINEBENCH_API_TIMEOUT", default=str(API_DEFAULTS.timeout))),
        retries=int(_get("SPINEBENCH_API_RETRIES", default=str(API_DEFAULTS.retries))),
    )


def model_server() -> ServerSettings:
    """The openai_chat model's server: SPINEBENCH_API_BASE (or OPENAI_BASE_URL), its key and the request limits."""
    return _server(("SPINEBENCH_API_BASE", "OPENAI_BASE_URL"), ("SPINEBENCH_API_KEY", "OPENAI_API_KEY"))


def judge_server() -> ServerSettings:
    """The judge's server: SPINEBENCH_JUDGE_BASE / _KEY, falling back to the model server's variables."""
    return _server(
        ("SPINEBENCH_JUDGE_BASE", "SPINEBENCH_API_BASE", "OPENAI_BASE_URL"),
        ("SPINEBENCH_JUDGE_KEY", "SPINEBENCH_API_KEY", "OPENAI_API_KEY"),
    )


def api_key(variable: str | None) -> str | None:
    """The key kept in the environment variable a SWEEP.yaml names (`api_key_env`; never written anywhere), or None
    when no variable is named or it is not set."""
    return _get(variable) if variable else None


def judge_spec() -> str:
    """SPINEBENCH_JUDGE (`openai:MODEL` or `transformers:PATH`); "" when no judge is configured."""
    return _get("SPINEBENCH_JUDGE", default="")


def baseline_seed() -> int:
    """The seed of the random baseline and the nearest-neighbour libraries (SPINEBENCH_BASELINE_SEED, default 0)."""
    return int(_get("SPINEBENCH_BASELINE_SEED", default=str(DEFAULT_SEED)))


def baseline_encoder() -> tuple[str, str]:
    """(open_clip name, weights) of the nearest-neighbour baseline's encoder (SPINEBENCH_ENCODER[_WEIGHTS])."""
    return (
        _get("SPINEBENCH_ENCODER", default=DEFAULT_ENCODER),
        _get("SPINEBENCH_ENCODER_WEIGHTS", default=DEFAULT_ENCODER_WEIGHTS),
    )


def lighteval_fixes_enabled() -> bool:
    """True unless SPINEBENCH_NO_LIGHTEVAL_PATCHES is set to something other than 0."""
    return _get("SPINEBENCH_NO_LIGHTEVAL_PATCHES", default="0") == "0"


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE or HF_DATASETS_OFFLINE is 1, true or yes."""
    return any(
        os.environ.get(name, "").lower() in ("1", "true", "yes") for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )
