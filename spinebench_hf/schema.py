"""The stored contract of a built SpineBench: configs, splits, columns and the names behind every ClassLabel.

A ClassLabel is stored as an index into its names, so these lists are fixed here, in the order the dataset card and
every built dataset use; they are never derived from code (the order readers are registered, say). A new name is
only ever appended: an older dataset then still decodes as it was written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .labels import CLASS_NAMES

if TYPE_CHECKING:
    import datasets

CONFIGS = ("diagnosis", "localization")
SPLITS = ("full", "sub", "train")  # train: full minus everything that leaks into sub (construction/train_split.py)
EVALUATION_SPLITS = ("full", "sub")  # what the evaluation tasks ask; never train
SUB_SIZES = {"diagnosis": 1758, "localization": 1000}  # the paper's SpineBench-Sub, questions per config
SOURCE_NAMES = ("buu", "csxa", "rsna", "vindr", "unknown")  # the `source` ClassLabel; append only
UNKNOWN = "unknown"  # a column the authors' release does not carry (source, modality, view)

# Per-sample details carry these: the robustness task variants (`spinebench:diagnosis_blind`, ...) and the id of a
# rotated copy of a question (`<id>#rot<k>`) for circular evaluation.
TASK_VARIANTS = ("blind", "circular")
ROTATION = "#rot"
FAILED_STAGE = "failed"  # the extraction stage of a question whose request got no reply (`spinebench sweep`)
SYNTHETIC_NOTE = "SYNTHETIC DATA: drawn images and random-weight distractors; these numbers are not medical results."
SWEEP_RUN_FILE = "run.json"  # beside a sweep's details: its backend, generation settings and dataset

DESCRIPTION = "SpineBench (arXiv 2510.12267): multiple-choice spine diagnosis and lesion localization questions."
HOMEPAGE = "https://arxiv.org/abs/2510.12267"
CITATION = """@inproceedings{zhang2025spinebench,
  title = {SpineBench: Benchmarking Multimodal LLMs for Spinal Pathology Analysis},
  author = {Zhang, Chenghanyu and Li, Zekun and Li, Peipei and Cui, Xing and Xia, Shuhan and Yan, Weixiang and
            Zhang, Yiqiao and Zhuang, Q.},
  booktitle = {Proceedings of the 33rd ACM International Conference on Multimedia},
  year = {2025},
  eprint = {2510.12267},
  archivePrefix = {arXiv}
}"""


def features() -> datasets.Features:
    """The columns of both configs (docs/schema.md)."""
    import datasets  # here, not at the top: the vocabulary above is read by code that never builds a dataset

    text = datasets.Value("string")
    return datasets.Features(
        {
            "id": text,
            "image": datasets.Image(),
            "image_id": text,
            "task": text,
            "question": text,
            "options": datasets.List(text),
            "answer": datasets.List(text),
            "answer_text": datasets.List(text),
            "disease": datasets.ClassLabel(names=list(CLASS_NAMES)),
            "diseases": datasets.List(datasets.ClassLabel(names=list(CLASS_NAMES))),
            "levels": datasets.List(text),
            "source": datasets.ClassLabel(names=list(SOURCE_NAMES)),
            "modality": text,
            "view": text,
            "patient_id": text,
            "study_id": text,
            "option_similarity": datasets.List(datasets.Value("float32")),
        }
    )


def class_name(names: tuple[str, ...], value) -> str:
    """A ClassLabel value as read back from details or parquet: its index (-1: no label), or already its name."""
    if isinstance(value, str):
        return value
    return names[int(value)] if 0 <= int(value) < len(names) else UNKNOWN
