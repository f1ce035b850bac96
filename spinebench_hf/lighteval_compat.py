"""Fixes for lighteval 0.13's verified defects on the image path (spec/ecosystem-notes.md §1); 0.13.x only.

Each fix patches one module when that module is imported. The startup hook installed with this package
(`spinebench_lighteval_hook`, run from a .pth file) registers them, so the stock `lighteval` command is fixed
before it imports its built-in tasks — a custom task file is imported after those, too late for the first two.
`install()` does the same from Python (`spinebench eval`, tests); SPINEBENCH_NO_LIGHTEVAL_PATCHES=1 turns it off.

1. offline: the built-in `tiny_benchmarks` downloads a file from GitHub at import → with HF_HUB_OFFLINE=1 an empty
   stub module takes its place;
2. huggingface_hub 2.x: `mt_bench` and `mix_eval` fail at import (`list_models(model_name=...)`) and take the
   whole registry down → a built-in task module that fails to import is skipped with a warning;
3. xxhash 4.x: the details logger hashes `doc.query` (a str) → TypeError on every run → str is encoded first;
4. the VLM backend returns `ModelResponse.text` as a str, not a list: the reasoning-tag post-processing then
   iterates over characters → the text is wrapped in a list;
5. data parallel: the VLM backend gathers with `gather_object`, which keeps accelerate's padding duplicates and
   shifts every later response onto the wrong question → `gather_for_metrics(..., use_gather_object=True)`.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import logging
import os
import sys
import types

logger = logging.getLogger(__name__)
FIXED_VERSIONS = ("0.13.",)
DISABLE_VARIABLE = "SPINEBENCH_NO_LIGHTEVAL_PATCHES"


def applies() -> bool:
    if os.environ.get(DISABLE_VARIABLE, "") not in ("", "0"):
        return False
    from importlib.metadata import version

    return version("lighteval").startswith(FIXED_VERSIONS)


def offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


# --- the fixes, each given the module it patches -------------------------------------------------------
def tolerate_broken_builtin_tasks(registry_module: types.ModuleType) -> None:
    """Fix 2 (and 1 when online but unreachable): skip a built-in task module that cannot be imported."""
    registry = registry_module.Registry

    def load(names: list[str]) -> dict:
        configs = {}
        for name in names:
            try:
                module = importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - any failure of a module we do not use must not stop the run
                logger.warning("lighteval built-in task module %s skipped: %s: %s", name, type(exc).__name__, exc)
                continue
            configs.update(registry._extract_configs(module))
        return configs

    registry._load_from_files = staticmethod(lambda files, prefix: load([f"{prefix}.{f.stem}" for f in files]))
    registry._load_from_subdirs = staticmethod(
        lambda subdirs: load([f"lighteval.tasks.tasks.{d.name}.main" for d in subdirs]))


def encode_str_for_xxhash(info_loggers: types.ModuleType) -> None:
    """Fix 3: xxhash ≥ 4 refuses str."""
    real = info_loggers.xxhash

    class XXHash:
        @staticmethod
        def xxh64(data, *args, **kwargs):
            return real.xxh64(data.encode("utf-8") if isinstance(data, str) else data, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(real, name)

    info_loggers.xxhash = XXHash()


def listify_vlm_text(responses: list) -> list:
    for response in responses:
        if isinstance(response.text, str):
            response.text = [response.text]
    return responses


def gather_without_padding(data: list) -> list:
    from accelerate import Accelerator

    return Accelerator().gather_for_metrics(data, use_gather_object=True)


def destroy_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def fix_vlm_backend(vlm_module: types.ModuleType) -> None:
    """Fixes 4 and 5 (and, for data parallel, a clean exit: a live gloo group can abort the process at exit)."""
    model_class = vlm_module.VLMTransformersModel
    original = model_class.greedy_until

    @functools.wraps(original)
    def greedy_until(self, *args, **kwargs):
        return listify_vlm_text(original(self, *args, **kwargs))

    model_class.greedy_until = greedy_until
    vlm_module.gather_object = gather_without_padding
    atexit.register(destroy_process_group)


def stub_tiny_benchmarks(name: str) -> types.ModuleType:
    """Fix 1: an empty task module instead of one that downloads at import."""
    module = types.ModuleType(name)
    module.TASKS_TABLE = []
    module.__doc__ = "Stub (offline): spinebench_hf.lighteval_compat replaced lighteval's tiny_benchmarks."
    return module


PATCHES = {
    "lighteval.tasks.registry": tolerate_broken_builtin_tasks,
    "lighteval.logging.info_loggers": encode_str_for_xxhash,
    "lighteval.models.transformers.vlm_transformers_model": fix_vlm_backend,
}
TINY_BENCHMARKS = "lighteval.tasks.tasks.tiny_benchmarks"


def install() -> bool:
    """Patch the target modules already imported and arrange for the others to be patched on import."""
    if not applies():
        return False
    from spinebench_lighteval_hook import PatchFinder

    if not any(isinstance(finder, PatchFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, PatchFinder())
    for name, patch in PATCHES.items():
        module = sys.modules.get(name)
        if module is not None and not getattr(module, "_spinebench_patched", False):
            patch(module)
            module._spinebench_patched = True
    return True
