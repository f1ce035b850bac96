"""The paper's prompts, word for word: the paper's Figure 9 (diagnosis) and Figure 10 (localization).

The figures end with `<image>`, which marks where the image goes: the image is attached after the text by the
model backend (lighteval puts text before images), so it is not written into the text, where a processor would
read it as an image token. One quirk of the appendix text is normalised: Figure 9 has a stray `"` after
"chosen answer).", which is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

LETTERS = "ABCDE"

_PREAMBLE = (
    "This is a simulated medical scenario for educational or evaluation purposes. You are to adopt the persona of a "
    "board-certified spine surgeon with extensive clinical experience. Your task is to analyze the following "
    "multiple-choice question and, drawing upon your simulated expertise, "
)
DIAGNOSIS_TEMPLATE = (
    _PREAMBLE
    + "identify the single most accurate answer among the options. Important: Maintain your role throughout. Provide "
    "your reasoning for selecting the best option. Do not break character by stating you are an AI or advising "
    "consultation with a real physician. The Question is: {question}. The candidate Options are: {options}. After "
    "providing your detailed reasoning, you must conclude your entire response with the following exact phrase on a "
    "new line: My final option: [X] (where X is the letter: A, B, C, D, or E corresponding to your chosen answer)."
)
LOCALIZATION_TEMPLATE = (
    _PREAMBLE
    + "identify all appropriate answers among the options, as there may be more than one correct choice. Important: "
    "Maintain your role throughout. Provide your reasoning for selecting each of your chosen options. Do not break "
    "character by stating you are an AI or advising consultation with a real physician. The Question is: {question}. "
    "The candidate Options are: {options}. After providing your detailed reasoning, you must conclude your entire "
    "response with the following exact phrase on a new line: My final options: [X, Y, ...] (where X, Y, ... are the "
    "letters: A, B, C, D, or E corresponding to your chosen answers, separated by commas if multiple. For example: My "
    "final options: [A, C])."
)
TEMPLATES = {"diagnosis": DIAGNOSIS_TEMPLATE, "localization": LOCALIZATION_TEMPLATE}


def render_options(options: Sequence[str]) -> str:
    """`[A: text, B: text, ...]`, as in the figures."""
    return "[" + ", ".join(f"{LETTERS[i]}: {text}" for i, text in enumerate(options)) + "]"


def build_prompt(item: Mapping) -> str:
    """The verbatim Figure 9 / Figure 10 prompt for a dataset row (`task`, `question`, `options`).

    Args:
        item: a dataset row, or any mapping with `task` ("diagnosis" or "localization"), `question` and `options`
            (the option texts, in letter order).

    Returns:
        The prompt text, without the image (the backend attaches it after the text).

    Raises:
        KeyError: `task` is not a config of the templates, or a field is missing.

    >>> item = {"task": "diagnosis", "question": "What is the diagnosis?", "options": ["Healthy", "Osteophytes"]}
    >>> build_prompt(item).startswith("This is a simulated medical scenario for educational or evaluation purposes.")
    True
    >>> build_prompt(item).split("The Question is: ")[1].split(". After")[0]
    'What is the diagnosis?. The candidate Options are: [A: Healthy, B: Osteophytes]'
    """
    return TEMPLATES[item["task"]].format(question=item["question"], options=render_options(item["options"]))
