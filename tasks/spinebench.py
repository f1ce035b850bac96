"""
name:
SpineBench

dataset:
the folder written by `spinebench build` (environment variable SPINEBENCH_DATA, default ./spinebench)

abstract:
Multiple-choice spine diagnosis (one answer among 5 SigLIP2-mined options) and lesion localization (one or more of
the lumbar levels L1/L2..L5/S1) on X-ray and MRI images; the paper's Figure 9/10 prompts; answers read from the
last "My final option(s):" marker. `spinebench:diagnosis` and `spinebench:localization` evaluate SpineBench-Sub,
the `_full` variants every question. Run with `--vision-model`.

languages:
english

tags:
medical, multimodal, multiple-choice

paper:
https://arxiv.org/abs/2510.12267
"""

from spinebench_hf.evaluation.lighteval_fixes import fix_vlm_backend
from spinebench_hf.evaluation.lighteval_task import TASKS_TABLE  # noqa: F401  (what lighteval reads)

fix_vlm_backend()  # lighteval 0.13's VLM backend: text shape, data-parallel gather (version-gated)
