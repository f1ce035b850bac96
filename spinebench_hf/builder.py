"""`spinebench_hf.builder.SpineBench`, the name SPEC §1 gives the `datasets` builder; it lives in the build stage."""

from .construction.dataset_builder import SpineBench

__all__ = ["SpineBench"]
