"""SpineBench baseline for `lighteval custom NAME $(spinebench model-file nearest_neighbour) TASKS` (see spinebench_hf/baselines.py)."""

from spinebench_hf.evaluation.baselines import NearestNeighbourBaseline  # noqa: F401  (lighteval loads the one LightevalModel class here)
