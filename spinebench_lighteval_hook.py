"""Startup hook (run by spinebench_hf-lighteval.pth): patch lighteval 0.13's modules as they are imported.

It costs one small import per Python start and imports nothing else until a lighteval module it patches is loaded;
the fixes themselves are in `spinebench_hf.lighteval_compat`. SPINEBENCH_NO_LIGHTEVAL_PATCHES=1 turns it off.
"""

import importlib.abc
import os
import sys

TARGETS = (
    "lighteval.tasks.registry",
    "lighteval.logging.info_loggers",
    "lighteval.models.transformers.vlm_transformers_model",
    "lighteval.tasks.tasks.tiny_benchmarks",
)


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader, name):
        self.loader, self.name, self.stubbed = loader, name, False

    def create_module(self, spec):
        if self.name.endswith("tiny_benchmarks"):
            from spinebench_hf import lighteval_compat

            if lighteval_compat.applies() and lighteval_compat.offline():
                self.stubbed = True
                return lighteval_compat.stub_tiny_benchmarks(self.name)
        return self.loader.create_module(spec)

    def exec_module(self, module):
        if self.stubbed:
            return
        self.loader.exec_module(module)
        from spinebench_hf import lighteval_compat

        patch = lighteval_compat.PATCHES.get(self.name)
        if patch and lighteval_compat.applies() and not getattr(module, "_spinebench_patched", False):
            patch(module)
            module._spinebench_patched = True


class PatchFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname not in TARGETS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, fullname)
                return spec
        return None


def install() -> None:
    if os.environ.get("SPINEBENCH_NO_LIGHTEVAL_PATCHES", "") in ("", "0") and not any(
        isinstance(finder, PatchFinder) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, PatchFinder())


install()
