"""One scoring core: the same replies through the lighteval task, the lmms-eval task, the `evaluate` metric and
the sweep give the same letters, stages and scores (`metrics.score_reply` behind all four)."""

from pathlib import Path

import pytest
from conftest import ROW, prerequisite
from lighteval.models.model_output import ModelResponse

from spinebench_hf.evaluation.lighteval_task import SpineBenchScore, spinebench_doc
from spinebench_hf.evaluation.lmms_eval_task import process_results
from spinebench_hf.evaluation.sweep import Question, write_details
from spinebench_hf.metrics import RULE_METRIC_NAMES, TASKS, score_reply
from spinebench_hf.report.details import read_details

DIAGNOSIS = ROW | {
    "id": "d1",
    "task": "diagnosis",
    "options": ["Healthy", "Osteophytes", "Disc space narrowing", "Vertebral collapse", "Foraminal stenosis"],
    "answer": ["C"],
    "disease": 0,
}
LOCALIZATION = ROW | {"id": "l1"}
REPLIES = [
    "<think>a</think>My final option: C\n<think>b</think>I am not sure any more.",  # lmms-eval's case
    "<think>My final option: [A]</think><analysis>My final options: [E]</analysis>My final options: [B, D]",
    "<THINK>x</THINK>My final options: [B]",
    "reasoning... </think> My final options: [A, B, D, E]",  # the template opened the block
    "<think>My final option: [C] and never closed",
    "【D】My final options: 【B，D】",
    "My final options: " + ", ".join(["B", "D"] * 600),  # a long list, read whole
    "The lesion is at L4/L5 only.",
    "Disc space narrowing, clearly.",
    "I cannot tell.",
    "My final options: [F]",
]


def lighteval_path(row, reply):
    doc = spinebench_doc(row, f"spinebench:{row['task']}")
    scores = SpineBenchScore(row["task"]).compute(doc, ModelResponse(text=[reply]))
    return tuple(doc.specific["extracted"]), doc.specific["extraction_stage"], scores


def lmms_path(row, reply):
    records = process_results(row, [reply])
    record = records["acc"]
    return tuple(record["extracted"]), record["stage"], {name: r["score"] for name, r in records.items()}


def evaluate_path(row, reply):
    evaluate = prerequisite("evaluate", "the metric extra: pip install -e '.[metric]'")
    from spinebench_hf.evaluation.evaluate_metric import metric_path

    metric = evaluate.load(str(metric_path()))
    return metric.compute(
        predictions=[reply], references=[{"answer": row["answer"], "options": row["options"]}], task=row["task"]
    )


def sweep_path(row, reply, folder: Path):
    task = f"spinebench:{row['task']}"
    question = Question(
        task,
        "prompt",
        b"",
        {
            k: row[k]
            for k in (
                "id",
                "image_id",
                "task",
                "question",
                "options",
                "answer",
                "source",
                "disease",
                "modality",
                "study_id",
            )
        },
        "key",
    )
    write_details("m", task, [question], {"key": reply}, {}, folder)
    (found,) = read_details([folder / "details"]).to_dict("records")
    return found


@pytest.mark.parametrize("row", [DIAGNOSIS, LOCALIZATION], ids=["diagnosis", "localization"])
@pytest.mark.parametrize("reply", REPLIES, ids=range(len(REPLIES)))
def test_the_four_harnesses_read_and_score_alike(row, reply, tmp_path, monkeypatch):
    monkeypatch.delenv("SPINEBENCH_JUDGE", raising=False)
    core = score_reply(reply, row["task"], row["options"], row["answer"])
    letters, stage, lighteval = lighteval_path(row, reply)
    assert (letters, stage, lighteval) == (tuple(core.letters or ()), core.stage, core.scores)
    letters, stage, lmms = lmms_path(row, reply)
    rule = core.rule_scores(row["task"])
    assert (letters, stage) == (tuple(core.letters or ()), core.stage)
    assert lmms == rule | {"overall": rule["acc"]}
    assert evaluate_path(row, reply) == pytest.approx(rule)
    swept = sweep_path(row, reply, tmp_path)
    assert (tuple(swept["extracted"]), swept["stage"]) == (tuple(core.letters or ()), core.stage)
    assert {name: swept[name] for name in core.scores} == core.scores


def test_the_reasoning_case_reads_the_answer_between_blocks():
    scored = score_reply(REPLIES[0], "diagnosis", DIAGNOSIS["options"], ["C"])
    assert scored.letters == ("C",) and scored.stage == "marker" and scored.scores["acc"] == 1.0


def test_one_task_table():
    assert {name: (info.config, info.split, info.variant) for name, info in TASKS.items()} == {
        "spinebench:diagnosis": ("diagnosis", "sub", ""),
        "spinebench:diagnosis_full": ("diagnosis", "full", ""),
        "spinebench:localization": ("localization", "sub", ""),
        "spinebench:localization_full": ("localization", "full", ""),
        "spinebench:diagnosis_blind": ("diagnosis", "sub", "blind"),
        "spinebench:localization_blind": ("localization", "sub", "blind"),
        "spinebench:diagnosis_circular": ("diagnosis", "sub", "circular"),
    }
    assert RULE_METRIC_NAMES["diagnosis"] == ("acc", "format_compliance")
