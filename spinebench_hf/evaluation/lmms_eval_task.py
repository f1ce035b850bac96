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

import yaml
from PIL import Image

from ..dataset_files import dataset_fingerprint
from ..labels import CLASS_NAMES
from ..metrics import PROTOCOL_TASKS, RULE_METRIC_NAMES, TASK_PREFIX, TASKS, score_reply
from ..prompts import build_prompt
from ..schema import SOURCE_NAMES, class_name
from ..settings import GENERATION_SIZE

GROUP_METRIC = "overall"  # each task's acc again, averaged by the group into the paper's Overall
TEMPLATE = "_spinebench_template_yaml"  # no .yaml ending: lmms-eval would take it for a task
# what every task shares, with lmms-eval's `!function` tags (which yaml.safe_dump cannot write); `reasoning_tags:
# none` hands the parser the raw reply: it removes the reasoning blocks itself, as every other harness of ours does
TEMPLATE_TEXT = """output_type: generate_until
process_docs: !function utils.check_dataset
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
doc_to_messages: !function utils.doc_to_messages
doc_to_target: answer
process_results: !function utils.process_results
reasoning_tags: none
score_key: score
cluster_key: study_id
"""


def lmms_name(task: str) -> str:
    """lmms-eval's name of a task (`spinebench:diagnosis` → `spinebench_diagnosis`).

    >>> lmms_name("spinebench:localization_full")
    'spinebench_localization_full'
    """
    return task.replace(TASK_PREFIX, TASK_PREFIX.rstrip(":") + "_")


SETTINGS_FILE = "spinebench_dataset.json"  # the dataset folder and fingerprint a task folder was written for
UTILS = '''"""Written by `spinebench lmms-eval-tasks`: the functions live in \
spinebench_hf.evaluation.lmms_eval_task."""
from pathlib import Path

from spinebench_hf.evaluation.lmms_eval_task import (  # noqa: F401
    aggregate, doc_to_messages, doc_to_text, doc_to_visual, process_results)
from spinebench_hf.evaluation.lmms_eval_task import check_dataset as _check


def check_dataset(dataset):
    return _check(dataset, Path(__file__).with_name("spinebench_dataset.json"))
'''


def doc_to_visual(doc: dict) -> list[Image.Image]:
    """The row's image, as RGB."""
    return [doc["image"].convert("RGB")]


def doc_to_text(doc: dict, lmms_eval_specific_kwargs=None) -> str:
    """The paper's prompt for the row (`prompts.build_prompt`); lmms-eval's extra arguments are ignored."""
    return build_prompt(doc)


def doc_to_messages(doc: dict, lmms_eval_specific_kwargs=None) -> list[dict]:
    """The paper's prompt, then the image (its figures end with `<image>`)."""
    return [
        {
            "role": "user",
            "content": [{"type": "text", "text": build_prompt(doc)}, {"type": "image", "url": doc_to_visual(doc)[0]}],
        }
    ]


def process_results(doc: dict, results: list[str]) -> dict[str, dict]:
    """`metrics.score_reply` on the raw reply (the task sets `reasoning_tags: none`, so lmms-eval hands it over
    unstripped and our parser removes the reasoning), without a judge; `overall` repeats acc for the group."""
    reply = results[0] if results else ""
    scored = score_reply(reply, doc["task"], doc["options"], doc["answer"])
    record = {
        "id": doc["id"],
        "image_id": doc["image_id"],
        "task": doc["task"],
        "study_id": doc["study_id"] or doc["image_id"],  # an imported release has no studies: cluster by image
        "source": class_name(SOURCE_NAMES, doc["source"]),
        "disease": class_name(CLASS_NAMES, doc["disease"]),
        "modality": doc["modality"],
        "question": doc["question"],
        "options": list(doc["options"]),
        "answer": list(doc["answer"]),
        "reply": reply,
        "extracted": list(scored.letters or ()),
        "stage": scored.stage,
    }
    values = scored.rule_scores(doc["task"])
    return {name: record | {"score": value} for name, value in (values | {GROUP_METRIC: values["acc"]}).items()}


def aggregate(records: list[dict]) -> float:
    """The mean `score` of the per-sample records (NaN when there are none)."""
    return sum(record["score"] for record in records) / len(records) if records else float("nan")


def check_dataset(dataset, settings_path: Path):
    """lmms-eval's `process_docs`: refuse to score a dataset that is not the build the folder was written for."""
    settings = json.loads(Path(settings_path).read_text())
    current = dataset_fingerprint(settings["dataset"])
    if current != settings["fingerprint"]:
        raise ValueError(
            f"{settings['dataset']} was rebuilt (fingerprint {current[:16]}, the task folder "
            f"{Path(settings_path).parent} was written for {settings['fingerprint'][:16]}): run `spinebench "
            "lmms-eval-tasks` again and pass its folder to --include_path, so that no reply cached for the old "
            "questions is reused"
        )
    return dataset


def task_yaml(data: str, fingerprint: str, config: str, split: str, name: str) -> str:
    """One task's YAML: lmms-eval's `!function` tags are written by the `include:`d template, the rest by yaml."""
    metrics = [
        {"metric": metric, "aggregation": "!function utils.aggregate", "higher_is_better": True}
        for metric in (*RULE_METRIC_NAMES[config], GROUP_METRIC)
    ]
    task = {
        "include": TEMPLATE,
        "task": name,
        "dataset_path": data,
        "dataset_name": config,
        "test_split": split,
        "generation_kwargs": {"max_new_tokens": GENERATION_SIZE, "temperature": 0, "do_sample": False},
        "metric_list": metrics,
        "metadata": {"version": 0, "spinebench_fingerprint": fingerprint},
    }
    return yaml.safe_dump(task, sort_keys=False).replace("'!function utils.aggregate'", "!function utils.aggregate")


def group_yaml(names: list[str], fingerprint: str) -> str:
    """The group `spinebench`: only `overall` (each task's acc again) is aggregated, the paper's Overall. lmms-eval
    matches a group metric by substring, so aggregating `acc` would also average localization's `jaccard`."""
    group = {
        "group": "spinebench",
        "task": names,
        "aggregate_metric_list": [{"metric": GROUP_METRIC, "aggregation": "mean", "weight_by_size": False}],
        "metadata": {"version": 0, "spinebench_fingerprint": fingerprint},
    }
    return yaml.safe_dump(group, sort_keys=False)


def write_task_folder(data: str | Path, folder: str | Path) -> Path:
    """The lmms-eval task folder for the dataset `data` (a build or an imported release) in `folder`.

    Args:
        data: the dataset folder; the task YAML files record it as an absolute path, with its fingerprint.
        folder: where to write the task folder (made if missing; files of the same names are overwritten).

    Returns:
        `folder`, holding a YAML file per protocol task, the shared template, the group `spinebench`, utils.py and
        the settings file `check_dataset` reads: the path to give lmms-eval's `--include_path`.

    Raises:
        SpineBenchError: `data` is not a SpineBench dataset folder (no build_report.json or import_report.json).
    """
    data, folder = str(Path(data).resolve()), Path(folder)
    fingerprint = dataset_fingerprint(data)
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for task in PROTOCOL_TASKS:
        info, names[task] = TASKS[task], lmms_name(task)
        (folder / f"{names[task]}.yaml").write_text(task_yaml(data, fingerprint, info.config, info.split, names[task]))
    (folder / TEMPLATE).write_text(TEMPLATE_TEXT)
    protocol = [names[task] for task in PROTOCOL_TASKS if TASKS[task].split == "sub"]
    (folder / "spinebench.yaml").write_text(group_yaml(protocol, fingerprint))  # its overall: the paper's
    (folder / "utils.py").write_text(UTILS)
    (folder / SETTINGS_FILE).write_text(json.dumps({"dataset": data, "fingerprint": fingerprint}) + "\n")
    return folder
