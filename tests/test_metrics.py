import pytest

from spinebench_hf import build_prompt, parse_final_options, score_diagnosis, score_localization
from spinebench_hf.metrics import format_compliance, overall


def test_diagnosis_is_an_exact_letter_match():
    assert score_diagnosis(("B",), ["B"]) == 1.0
    assert score_diagnosis(("C",), ["B"]) == 0.0
    assert score_diagnosis(("B", "C"), ["B"]) == 0.0  # two letters for a single-answer question
    assert score_diagnosis(None, ["B"]) == 0.0  # unreadable: wrong, never a guess


@pytest.mark.parametrize(
    "pred, gold, expected",
    [
        (("A", "C"), ["A", "C"], {"acc": 1, "precision": 1, "recall": 1, "f1": 1, "jaccard": 1}),
        (("A",), ["A", "C"], {"acc": 0, "precision": 1, "recall": 0.5, "f1": 2 / 3, "jaccard": 0.5}),
        (("A", "B", "C"), ["A", "C"], {"acc": 0, "precision": 2 / 3, "recall": 1, "f1": 0.8, "jaccard": 2 / 3}),
        (("B", "D"), ["A", "C"], {"acc": 0, "precision": 0, "recall": 0, "f1": 0, "jaccard": 0}),
        (("A", "B"), ["B", "C", "D"], {"acc": 0, "precision": 0.5, "recall": 1 / 3, "f1": 0.4, "jaccard": 0.25}),
        (None, ["A"], {"acc": 0, "precision": 0, "recall": 0, "f1": 0, "jaccard": 0}),
        ((), ["A"], {"acc": 0, "precision": 0, "recall": 0, "f1": 0, "jaccard": 0}),
    ],
)
def test_localization_set_scores(pred, gold, expected):
    assert score_localization(pred, gold) == pytest.approx(expected)


def test_compliance_and_overall():
    assert [format_compliance(s) for s in ("marker", "option_text", "none")] == [1.0, 0.0, 0.0]
    assert overall(0.3237, 0.0935) == pytest.approx(0.2086)  # the paper's Gemini-2.5-pro row


def test_prompts_are_the_papers_figures_9_and_10():
    item = {
        "task": "diagnosis",
        "question": "What type of spinal disease does this patient have?",
        "options": ["Osteophytes", "Disc space narrowing", "Healthy", "Foraminal stenosis", "Vertebral collapse"],
    }
    prompt = build_prompt(item)
    assert prompt.startswith(
        "This is a simulated medical scenario for educational or evaluation purposes. You are to "
        "adopt the persona of a board-certified spine surgeon"
    )
    assert (
        "The Question is: What type of spinal disease does this patient have?. The candidate Options are: "
        "[A: Osteophytes, B: Disc space narrowing, C: Healthy, D: Foraminal stenosis, E: Vertebral collapse]. "
        "After providing your detailed reasoning"
    ) in prompt
    assert prompt.endswith(
        "My final option: [X] (where X is the letter: A, B, C, D, or E corresponding to your chosen answer)."
    )
    assert (
        "<image>" not in prompt and parse_final_options(prompt) is None
    )  # the instruction's own [X] reads as nothing
    localization = build_prompt(
        {
            "task": "localization",
            "question": "What is the site of the disease in the spine?",
            "options": ["L2/L3", "L3/L4", "L4/L5", "L1/L2", "L5/S1"],
        }
    )
    assert (
        "identify all appropriate answers among the options, as there may be more than one correct choice"
        in localization
    )
    assert localization.endswith("separated by commas if multiple. For example: My final options: [A, C]).")
