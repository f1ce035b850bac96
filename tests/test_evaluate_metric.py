"""The Hugging Face `evaluate` metric: offline from the package, across processes, equal to the lighteval path."""

import json
import subprocess
import sys

import pytest
from conftest import ROW, prerequisite
from lighteval.models.model_output import ModelResponse

from spinebench_hf.cli import main
from spinebench_hf.evaluation.evaluate_metric import metric_path
from spinebench_hf.evaluation.lighteval_task import SpineBenchScore, spinebench_doc

evaluate = prerequisite("evaluate", "the metric extra: pip install -e '.[metric]'")

REPLIES = [
    "My final options: [B, D]",
    "My final options: [B]",
    "reasoning... My final options: [A, B, D, E]",
    "I cannot tell.",
    "My final options: [F]",
    "The lesion is at L4/L5 only.",
]
DIAGNOSIS = dict(
    ROW,
    task="diagnosis",
    options=["Osteophytes", "Healthy", "Vertebral collapse", "Foraminal stenosis", "Disc space narrowing"],
    answer=["C"],
)
DIAGNOSIS_REPLIES = [
    "My final option: [C]",
    "My final option: C",
    "Vertebral collapse, clearly.",
    "My final option: [B]",
    "My final option: [C, D]",
    "no idea",
]


def lighteval_means(row: dict, replies: list[str], task: str) -> dict:
    """What the lighteval task scores on the same replies (no judge configured): its rule-only scores."""
    scored = [
        SpineBenchScore(task).compute(spinebench_doc(row, f"spinebench:{task}"), ModelResponse(text=[r]))
        for r in replies
    ]
    names = ["acc_rules", "format_compliance"] + (
        ["precision", "recall", "f1", "jaccard"] if task == "localization" else []
    )
    return {name.removesuffix("_rules"): sum(s[name] for s in scored) / len(scored) for name in names}


@pytest.mark.parametrize(
    "row, replies, task", [(ROW, REPLIES, "localization"), (DIAGNOSIS, DIAGNOSIS_REPLIES, "diagnosis")]
)
def test_scores_equal_the_lighteval_path(row, replies, task, monkeypatch):
    monkeypatch.delenv("SPINEBENCH_JUDGE", raising=False)
    metric = evaluate.load(str(metric_path()))  # offline: the module comes from the installed package
    reference = {"answer": row["answer"], "options": row["options"]}
    metric.add_batch(predictions=replies[:3], references=[reference] * 3)
    metric.add_batch(predictions=replies[3:], references=[reference] * (len(replies) - 3))
    assert metric.compute(task=task) == pytest.approx(lighteval_means(row, replies, task))


def test_the_class_works_without_evaluate_load():
    sys.path.insert(0, str(metric_path()))
    try:
        from spinebench import SpineBench
    finally:
        sys.path.pop(0)
    result = SpineBench().compute(
        predictions=["My final option: [C]"], references=[{"answer": ["C"], "options": list("xyz")}]
    )
    assert result == {"acc": 1.0, "format_compliance": 1.0}


PROCESS = """
import json, sys, evaluate
rank, path, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3]
metric = evaluate.load(path, num_process=2, process_id=rank, experiment_id="spinebench-test", cache_dir=folder)
replies = {replies!r}
half = replies[rank::2]
metric.add_batch(predictions=half, references=[{reference!r}] * len(half))
print(json.dumps(metric.compute(task="localization")))
"""


@pytest.mark.slow
def test_add_batch_and_compute_across_processes(tmp_path):
    script = PROCESS.format(replies=REPLIES, reference={"answer": ROW["answer"], "options": ROW["options"]})
    ranks = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(rank), str(metric_path()), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    outputs = [process.communicate(timeout=300) for process in ranks]
    assert all(process.returncode == 0 for process in ranks), outputs[0][1][-2000:] + outputs[1][1][-2000:]
    gathered = json.loads(outputs[0][0].strip().splitlines()[-1])  # process 0 computes over every process's batch
    assert gathered == pytest.approx(lighteval_means(ROW, REPLIES, "localization"))


def test_metric_path_command(capsys):
    assert main(["metric-path"]) == 0
    assert capsys.readouterr().out.strip() == str(metric_path())
