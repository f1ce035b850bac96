"""SpineBench for lmms-eval (0.7): the same prompts, parser and scores as the lighteval task, in lmms-eval's shape.

`spinebench lmms-eval-tasks` writes a task folder for the dataset in SPINEBENCH_DATA (`write_task_folder`) and
prints it, for `--include_path`: `spinebench_diagnosis`, `spinebench_localization` (SpineBench-Sub), their `_full`
variants, and the group `spinebench` whose `acc` is the paper's Overall (the unweighted mean of the two tasks).
The YAML files record the dataset's fingerprint: lmms-eval's response cache hashes the task YAML, so a rebuilt
dataset gets new tasks and never old replies; and a folder written for another build of the dataset refuses to
run (`check_dataset`) instead of silently scoring the new questions with it.

Per sample, `process_results` returns for each metric a record with its `score`, the study to cluster on (lmms-eval
computes the clustered standard error from `cluster_key`), and what `spinebench report` needs to read the
`--log_samples` output as it reads lighteval's details.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from ..labels import CLASS_NAMES
from ..metrics import METRIC_NAMES, format_compliance, score_diagnosis, score_localization
from ..parsing import extract_answer
from ..prompts import build_prompt
from ..schema import CONFIGS, SOURCE_NAMES, class_name
from ..settings import GENERATION_SIZE
from .variants import dataset_fingerprint

TASK_PREFIX = "spinebench_"
SETTINGS_FILE = "spinebench_dataset.json"  # the dataset folder and fingerprint a task folder was written for
UTILS = '''"""Written by `spinebench lmms-eval-tasks`: the functions live in spinebench_hf.evaluation.lmms_eval_task."""
from pathlib import Path

from spinebench_hf.evaluation.lmms_eval_task import (  # noqa: F401
    aggregate, doc_to_messages, doc_to_text, doc_to_visual, process_results)
from spinebench_hf.evaluation.lmms_eval_task import check_dataset as _check


def check_dataset(dataset):
    return _check(dataset, Path(__file__).with_name("spinebench_dataset.json"))
'''


def doc_to_visual(doc: dict) -> list[Image.Image]:
    return [doc["image"].convert("RGB")]


def doc_to_text(doc: dict, lmms_eval_specific_kwargs=None) -> str:
    return build_prompt(doc)


def doc_to_messages(doc: dict, lmms_eval_specific_kwargs=None) -> list[dict]:
    """The paper's prompt, then the image (its figures end with `<image>`)."""
    return [{"role": "user", "content": [{"type": "text", "text": build_prompt(doc)},
                                         {"type": "image", "url": doc_to_visual(doc)[0]}]}]


def scores(doc: dict, reply: str) -> tuple[dict[str, float], dict]:
    """The scores of one reply (as the lighteval task's rule-only scores), and what was read from it."""
    extraction = extract_answer(reply, list(doc["options"]))
    if doc["task"] == "diagnosis":
        values = {"acc": score_diagnosis(extraction.letters, doc["answer"])}
    else:
        values = score_localization(extraction.letters, doc["answer"])
    values["format_compliance"] = format_compliance(extraction.stage)
    return values, {"extracted": list(extraction.letters or ()), "stage": extraction.stage}


def process_results(doc: dict, results: list[str]) -> dict[str, dict]:
    reply = results[0] if results else ""
    values, read = scores(doc, reply)
    record = {
        "id": doc["id"], "image_id": doc["image_id"], "task": doc["task"],
        "study_id": doc["study_id"] or doc["image_id"],  # an imported release has no studies: cluster by image
        "source": class_name(SOURCE_NAMES, doc["source"]), "disease": class_name(CLASS_NAMES, doc["disease"]),
        "modality": doc["modality"], "question": doc["question"], "options": list(doc["options"]),
        "answer": list(doc["answer"]), "reply": reply, **read,
    }
    return {name: record | {"score": value} for name, value in values.items()}


def aggregate(records: list[dict]) -> float:
    return sum(record["score"] for record in records) / len(records) if records else float("nan")


def check_dataset(dataset, settings_path: Path):
    """lmms-eval's `process_docs`: refuse to score a dataset that is not the build the folder was written for."""
    settings = json.loads(Path(settings_path).read_text())
    current = dataset_fingerprint(settings["dataset"])
    if current != settings["fingerprint"]:
        raise ValueError(
            f"{settings['dataset']} was rebuilt (fingerprint {current[:16]}, the task folder {Path(settings_path).parent} "
            f"was written for {settings['fingerprint'][:16]}): run `spinebench lmms-eval-tasks` again and pass its "
            "folder to --include_path, so that no reply cached for the old questions is reused")
    return dataset


def task_yaml(data: str, fingerprint: str, config: str, split: str, name: str) -> str:
    metrics = "".join(f"  - metric: {metric}\n    aggregation: !function utils.aggregate\n    higher_is_better: true\n"
                      for metric in ("acc", *[m for m in METRIC_NAMES[config] if m not in ("acc", "acc_rules", "judge_rescue")]))
    return (f"task: {name}\ndataset_path: {json.dumps(data)}\ndataset_name: {config}\ntest_split: {split}\n"
            "output_type: generate_until\nprocess_docs: !function utils.check_dataset\n"
            "doc_to_visual: !function utils.doc_to_visual\ndoc_to_text: !function utils.doc_to_text\n"
            "doc_to_messages: !function utils.doc_to_messages\ndoc_to_target: answer\n"
            "process_results: !function utils.process_results\n"
            f"generation_kwargs:\n  max_new_tokens: {GENERATION_SIZE}\n  temperature: 0\n  do_sample: false\n"
            f"metric_list:\n{metrics}score_key: score\ncluster_key: study_id\n"
            f"metadata:\n  version: 0\n  spinebench_fingerprint: {fingerprint}\n")


def write_task_folder(data: str | Path, folder: str | Path) -> Path:
    """The lmms-eval task folder for the dataset `data` (a build or an imported release) in `folder`."""
    data, folder = str(Path(data).resolve()), Path(folder)
    fingerprint = dataset_fingerprint(data)
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for config in CONFIGS:
        for suffix, split in (("", "sub"), ("_full", "full")):
            names[config + suffix] = f"{TASK_PREFIX}{config}{suffix}"
            (folder / f"{names[config + suffix]}.yaml").write_text(task_yaml(data, fingerprint, config, split,
                                                                            names[config + suffix]))
    group = ("group: spinebench\ntask:\n" + "".join(f"  - {names[c]}\n" for c in CONFIGS)
             + "aggregate_metric_list:\n  - metric: acc\n    aggregation: mean\n    weight_by_size: false\n"
             + f"metadata:\n  version: 0\n  spinebench_fingerprint: {fingerprint}\n")
    (folder / "spinebench.yaml").write_text(group)  # its acc: the paper's Overall
    (folder / "utils.py").write_text(UTILS)
    (folder / SETTINGS_FILE).write_text(json.dumps({"dataset": data, "fingerprint": fingerprint}) + "\n")
    return folder
