"""Fixes for the lighteval 0.13 defects that no version pin removes (docs/library-notes.md §1); 0.13.x only.

They are applied in-process, when asked for, never at Python start-up: `fix_vlm_backend()` by the task file
(tasks/spinebench.py) and by `spinebench eval`; `stub_offline_downloads()` by `spinebench eval` alone, because it
must run before lighteval's registry imports its built-in tasks, and a task file is imported after those.
SPINEBENCH_NO_LIGHTEVAL_PATCHES=1 turns both off.

Two more defects are removed by pins in pyproject.toml, not by code: huggingface_hub 2.x makes the built-in
`mt_bench` and `mix_eval` fail at import and take the whole registry down (`huggingface_hub<2`), and xxhash 4.x
refuses the str that the details logger hashes on every run (`xxhash<4`).

1. offline: the built-in `tiny_benchmarks` downloads a file from GitHub at import; with HF_HUB_OFFLINE=1 an empty
   module takes its place;
2. the VLM backend returns `ModelResponse.text` as a str, not a list: the reasoning-tag post-processing then
   iterates over characters; the text is wrapped in a list;
3. data parallel: the VLM backend gathers with `gather_object`, which keeps accelerate's padding duplicates and
   shifts every later response onto the wrong question; `gather_for_metrics(..., use_gather_object=True)` drops
   them.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import sys
import types
from importlib.metadata import version

from ..settings import hub_offline, lighteval_fixes_enabled

FIXED_VERSIONS = ("0.13.",)
TINY_BENCHMARKS = "lighteval.tasks.tasks.tiny_benchmarks"
VLM_BACKEND = "lighteval.models.transformers.vlm_transformers_model"
_PATCHED = "_spinebench_patched"


def applies() -> bool:
    """Whether the fixes are on (SPINEBENCH_NO_LIGHTEVAL_PATCHES unset or 0) and the installed lighteval is 0.13.x."""
    return lighteval_fixes_enabled() and version("lighteval").startswith(FIXED_VERSIONS)


def stub_offline_downloads() -> bool:
    """Fix 1, before lighteval's registry loads: an empty `tiny_benchmarks` when the Hub is offline."""
    if not (applies() and hub_offline()) or TINY_BENCHMARKS in sys.modules:
        return False
    module = types.ModuleType(TINY_BENCHMARKS)
    module.__dict__["TASKS_TABLE"] = []
    module.__doc__ = (
        "Empty (offline): spinebench_hf.evaluation.lighteval_fixes stands in for lighteval's tiny_benchmarks."
    )
    sys.modules[TINY_BENCHMARKS] = module
    return True


def listify_vlm_text(responses: list) -> list:
    """Fix 2: each response whose `text` is a bare str gets it wrapped in a list (in place; returned too)."""
    for response in responses:
        if isinstance(response.text, str):
            response.text = [response.text]
    return responses


def gather_without_padding(data: list) -> list:
    """Fix 3: the objects of every process, gathered without accelerate's padding duplicates."""
    from accelerate import Accelerator

    return Accelerator().gather_for_metrics(data, use_gather_object=True)


def destroy_process_group() -> None:
    """Destroy torch.distributed's process group if one is live (registered to run at exit)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def patch_vlm_module(vlm_module: types.ModuleType) -> None:
    """Fixes 2 and 3 on the module given (and, for data parallel, a clean exit: a live gloo group can abort the
    process at exit)."""
    model_class = vlm_module.VLMTransformersModel
    original = model_class.greedy_until

    @functools.wraps(original)
    def greedy_until(self, *args, **kwargs):
        return listify_vlm_text(original(self, *args, **kwargs))

    model_class.greedy_until = greedy_until
    vlm_module.__dict__["gather_object"] = gather_without_padding
    atexit.register(destroy_process_group)


def fix_vlm_backend() -> bool:
    """Fixes 2 and 3 on lighteval's VLM backend, once per process."""
    if not applies():
        return False
    module = importlib.import_module(VLM_BACKEND)
    if not getattr(module, _PATCHED, False):
        patch_vlm_module(module)
        setattr(module, _PATCHED, True)
    return True
