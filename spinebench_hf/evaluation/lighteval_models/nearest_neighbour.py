"""SpineBench baseline for `lighteval custom NAME $(spinebench model-file nearest_neighbour) TASKS`.

See spinebench_hf/evaluation/baselines.py.
"""

from spinebench_hf.evaluation.baselines import NearestNeighbourBaseline  # noqa: F401  (lighteval loads the one LightevalModel class here)
