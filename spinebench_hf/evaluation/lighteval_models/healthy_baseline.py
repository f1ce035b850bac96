"""SpineBench baseline for `lighteval custom NAME $(spinebench model-file healthy_baseline) TASKS`.

See spinebench_hf/evaluation/baselines.py.
"""

from spinebench_hf.evaluation.baselines import HealthyBaseline  # noqa: F401  (lighteval loads the one LightevalModel class here)
