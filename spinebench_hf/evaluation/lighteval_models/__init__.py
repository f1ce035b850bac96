"""One file per model for `lighteval custom NAME FILE TASKS` (lighteval loads the one model class of a file).

`spinebench model-file NAME` prints a file's path."""

from importlib import resources
from pathlib import Path

MODEL_FILES = ("random_baseline", "healthy_baseline", "nearest_neighbour", "openai_chat")


def model_file(name: str) -> Path:
    """The path to give `lighteval custom NAME PATH TASKS` for one of this package's model files."""
    if name not in MODEL_FILES:
        raise ValueError(f"unknown model file {name!r}; expected one of {list(MODEL_FILES)}")
    return Path(str(resources.files(__name__).joinpath(f"{name}.py")))
