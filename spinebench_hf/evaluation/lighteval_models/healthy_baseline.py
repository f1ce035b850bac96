"""SpineBench baseline for `lighteval custom NAME $(spinebench model-file healthy_baseline) TASKS` (see spinebench_hf/baselines.py)."""

from spinebench_hf.evaluation.baselines import HealthyBaseline  # noqa: F401  (lighteval loads the one LightevalModel class here)
