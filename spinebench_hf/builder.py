"""`spinebench_hf.builder.SpineBench`, the name docs/design.md gives the `datasets` builder; it lives in the build
stage (`construction`).
"""

from .construction.dataset_builder import SpineBench

__all__ = ["SpineBench"]
