"""SpineBench baseline for `lighteval custom NAME $(spinebench model-file random_baseline) TASKS`.

See spinebench_hf/evaluation/baselines.py.
"""

from spinebench_hf.evaluation.baselines import RandomBaseline  # noqa: F401  (lighteval loads the one LightevalModel class here)
