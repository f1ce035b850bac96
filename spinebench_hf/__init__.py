"""SpineBench for the Hugging Face stack: build the benchmark from the source archives, evaluate VLMs on it.

The stages are subpackages (`sources`, `embedding`, `construction`, `evaluation`, `report`) over a small core; the
names below are the stable Python API. Those that need pydicom, the readers or torch are imported when first used,
so that importing the package (as lighteval's task file does) loads none of them.
"""

from importlib import import_module

from .errors import ImageError, SourceFormatError, SpineBenchError
from .labels import CLASS_NAMES, DISEASES, HEALTHY, LEVELS
from .metrics import score_diagnosis, score_localization
from .parsing import parse_final_options
from .prompts import build_prompt

__version__ = "0.1.0"

_LAZY = {  # name -> the module that defines it
    "standardize_dicom": ".imaging",
    "standardize_image": ".imaging",
    "ImageEncoder": ".embedding.encoder",
    "READERS": ".sources",
    "open_source": ".sources",
    "Record": ".sources.records",
    "Skip": ".sources.records",
    "LevelFinding": ".sources.records",
}

__all__ = [
    "CLASS_NAMES",
    "DISEASES",
    "HEALTHY",
    "LEVELS",
    "ImageError",
    "SourceFormatError",
    "SpineBenchError",
    "build_prompt",
    "parse_final_options",
    "score_diagnosis",
    "score_localization",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'spinebench_hf' has no attribute {name!r}")
