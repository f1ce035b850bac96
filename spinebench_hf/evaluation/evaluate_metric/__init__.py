"""SpineBench as a Hugging Face `evaluate` metric: `evaluate.load(metric_path())`, or the class itself."""

from importlib import resources
from pathlib import Path


def metric_path() -> Path:
    """The metric's folder, for `evaluate.load` (`spinebench metric-path` prints it)."""
    return Path(str(resources.files(__name__).joinpath("spinebench")))
