"""SpineBench for the Hugging Face stack: build the benchmark from the source archives, evaluate VLMs on it."""

from .errors import ImageError, SourceFormatError, SpineBenchError
from .imaging import standardize_dicom, standardize_image
from .labels import CLASS_NAMES, DISEASES, HEALTHY, LEVELS
from .records import LevelFinding, Record, Skip
from .sources import READERS, open_source

__version__ = "0.1.0"

__all__ = [
    "CLASS_NAMES", "DISEASES", "HEALTHY", "LEVELS", "READERS", "ImageError", "LevelFinding", "Record", "Skip",
    "SourceFormatError", "SpineBenchError", "open_source", "standardize_dicom", "standardize_image",
]
