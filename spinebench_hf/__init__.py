"""SpineBench for the Hugging Face stack: build the benchmark from the source archives, evaluate VLMs on it."""

from .errors import ImageError, SourceFormatError, SpineBenchError
from .imaging import standardize_dicom, standardize_image
from .labels import CLASS_NAMES, DISEASES, HEALTHY, LEVELS
from .metrics import score_diagnosis, score_localization
from .parsing import parse_final_options
from .prompts import build_prompt
from .records import LevelFinding, Record, Skip
from .sources import READERS, open_source

__version__ = "0.1.0"

__all__ = [
    "CLASS_NAMES", "DISEASES", "HEALTHY", "LEVELS", "READERS", "ImageError", "LevelFinding", "Record", "Skip",
    "SourceFormatError", "SpineBenchError", "build_prompt", "open_source", "parse_final_options", "score_diagnosis",
    "score_localization", "standardize_dicom", "standardize_image", "ImageEncoder",
]


def __getattr__(name: str):
    # the encoder pulls in torch and open_clip: imported only when asked for
    if name == "ImageEncoder":
        from .encoder import ImageEncoder

        return ImageEncoder
    raise AttributeError(f"module 'spinebench_hf' has no attribute {name!r}")
