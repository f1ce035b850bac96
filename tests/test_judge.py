"""The judge stage: strict verdicts, cached, recorded, never a guess; rule-only and judge-assisted scores both."""

import pytest
from conftest import ROW, ChatServer, completion
from lighteval.models.model_output import ModelResponse

from spinebench_hf.evaluation import lighteval_task
from spinebench_hf.evaluation.judge import Judge, read_verdict
from spinebench_hf.evaluation.lighteval_task import SpineBenchScore, spinebench_doc

DIAGNOSIS_ROW = dict(
    ROW,
    task="diagnosis",
    id="vindr/x/diagnosis",
    answer=["C"],
    options=["Osteophytes", "Disc space narrowing", "Healthy", "Foraminal stenosis", "Vertebral collapse"],
)
UNREADABLE = "After weighing the image carefully, I lean towards the third of the listed choices."


@pytest.mark.parametrize(
    "text, letters",
    [
        ("LETTERS: B", ("B",)),
        ("LETTERS: C, A", ("A", "C")),
        ("  LETTERS: E  ", ("E",)),
        ("LETTERS: NONE", None),
        ("LETTERS: F", None),
        ("The answer is B", None),
        ("", None),
        ("LETTERS: A\nLETTERS: B", None),  # two verdicts: none
        ("letters: b", None),  # not the strict form
    ],
)
def test_verdicts_are_strict(text, letters):
    assert read_verdict(text, 5) == letters


def test_verdicts_are_cached_by_reply_options_and_judge(tmp_path):
    calls = []
    judge = Judge("fake-judge", lambda prompt: calls.append(prompt) or "LETTERS: C", tmp_path / "judge.sqlite")
    assert judge("some reply", ["a", "b", "c"]) == (("C",), "LETTERS: C")
    assert "<reply>\nsome reply\n</reply>" in calls[0] and "[A: a, B: b, C: c]" in calls[0]
    assert Judge("fake-judge", lambda p: pytest.fail("asked again"), tmp_path / "judge.sqlite")(
        "some reply", ["a", "b", "c"]
    )[0] == ("C",)
    judge("some reply", ["a", "b", "d"])
    Judge("other-judge", lambda p: calls.append(p) or "LETTERS: NONE", tmp_path / "judge.sqlite")(
        "some reply", ["a", "b", "c"]
    )
    assert len(calls) == 3


@pytest.fixture
def judged(monkeypatch, tmp_path):
    server = ChatServer([completion("LETTERS: C")])
    monkeypatch.setenv("SPINEBENCH_JUDGE", "openai:judge-model")
    monkeypatch.setenv("SPINEBENCH_JUDGE_BASE", server.url)
    monkeypatch.setenv("SPINEBENCH_CACHE", str(tmp_path))
    lighteval_task.configured_judge.cache_clear()
    yield server
    lighteval_task.configured_judge.cache_clear()
    server.close()


def score(reply):
    doc = spinebench_doc(DIAGNOSIS_ROW, "spinebench:diagnosis")
    return SpineBenchScore("diagnosis").compute(doc, ModelResponse(text=[reply])), doc.specific


def test_the_judge_rescues_only_what_the_rules_cannot_read(judged):
    scores, record = score(UNREADABLE)
    assert scores == {"acc": 1.0, "acc_rules": 0.0, "format_compliance": 0.0, "judge_rescue": 1.0}
    assert record["extraction_stage"] == "judge" and record["extracted"] == ["C"]
    assert record["judge"] == {"model": "openai:judge-model", "output": "LETTERS: C"}
    assert "judge-model" == judged.requests[0]["body"]["model"]
    scores, record = score("My final option: [A]")  # the rules read it: the judge is not asked
    assert scores["acc"] == scores["acc_rules"] == 0.0 and record["extraction_stage"] == "marker"
    assert len(judged.requests) == 1


def test_a_judge_that_answers_outside_the_format_never_guesses(judged):
    judged.script[:] = [completion("I think it's probably C")]
    scores, record = score(UNREADABLE)
    assert scores == {"acc": 0.0, "acc_rules": 0.0, "format_compliance": 0.0, "judge_rescue": 0.0}
    assert record["extraction_stage"] == "none" and record["judge"]["output"] == "I think it's probably C"


def test_without_a_judge_the_sample_stays_invalid(monkeypatch):
    monkeypatch.delenv("SPINEBENCH_JUDGE", raising=False)
    lighteval_task.configured_judge.cache_clear()
    scores, record = score(UNREADABLE)
    assert scores["acc"] == 0.0 and record["extraction_stage"] == "none" and "judge" not in record
    lighteval_task.configured_judge.cache_clear()


def test_a_local_transformers_judge(tmp_path, monkeypatch):
    """A tiny random-weight chat LM built here: its gibberish is never taken as a verdict."""
    from tiny_vlm import build_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    from spinebench_hf.evaluation.judge import judge_from_env

    tokenizer = build_tokenizer()
    LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    ).save_pretrained(tmp_path / "judge")
    tokenizer.save_pretrained(tmp_path / "judge")
    monkeypatch.setenv("SPINEBENCH_JUDGE", f"transformers:{tmp_path / 'judge'}")
    monkeypatch.setenv("SPINEBENCH_CACHE", str(tmp_path))
    letters, raw = judge_from_env()(UNREADABLE, DIAGNOSIS_ROW["options"])
    assert letters is None and isinstance(raw, str)
