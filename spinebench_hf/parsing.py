"""Reading the model's answer (docs/scoring.md): the contract marker first, then an unambiguous option text; never
a guess.

Stage "marker": the LAST "My final option(s):" in the reply (every `<think>`/`<analysis>` block removed first, so
drafts and option lists echoed in reasoning never count); letters inside [...] (or (...), {...}, the CJK 【...】 and
〔...〕) or bare after the colon; case, markdown and full-width characters tolerated; a list is read whole, however
long, or not at all; every letter must be one of the item's options, else nothing is read.
Stage "option_text": exactly one option's text appears (after the last marker if there is one, else in the whole
reply). Otherwise the reply is invalid (stage "none"), scored wrong. A judge model may be added later as a stage.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .prompts import LETTERS

# "(My) final option(s)" then ":" (or "is"/"are"), or directly a bracket; "my final option was ..." is prose.
# Matched at each "final" found from the end of the reply: the last marker is the only one that counts.
MARKER = re.compile(r"final\s+options?\b\s*(?:(?:is|are)\b\s*:?|:|(?=[\[({【〔]))\s*", re.IGNORECASE)
_MARKDOWN = str.maketrans("", "", "*_`#")
_REASONING = [
    (re.compile(rf"<{tag}>", re.IGNORECASE), re.compile(rf"</{tag}>", re.IGNORECASE)) for tag in ("think", "analysis")
]
_BRACKETS = {"[": "]", "(": ")", "{": "}", "【": "】", "〔": "〕"}  # NFKC leaves the CJK lenticular and tortoise
_BRACKET_CHARS = "".join(_BRACKETS) + "".join(_BRACKETS.values())  # shell brackets as they are
_LIST_SEPARATOR = re.compile(r"\s*(?:,|;|&|\band\b)\s*", re.IGNORECASE)
# an element naming its letter first: "A", "A: Spinal canal stenosis", "option B.", "C) Osteophytes"
_ELEMENT = re.compile(r"^(?:option\s+)?([A-Za-z])\s*(?:$|[:.)\-–=])", re.IGNORECASE)


@dataclass(frozen=True)
class Extraction:
    """The letters read from a reply and the stage that read them."""

    letters: tuple[str, ...] | None  # sorted, de-duplicated; None when nothing could be read
    stage: str  # "marker", "option_text" or "none" (later: "judge")


def normalize(text: str) -> str:
    """Full-width → ASCII (NFKC), reasoning removed (`strip_reasoning`), markdown emphasis dropped."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    lowered = text.lower()
    if "think>" in lowered or "analysis>" in lowered:
        text = strip_reasoning(text)
    return text.translate(_MARKDOWN)


def strip_reasoning(text: str) -> str:
    """The reply without its reasoning blocks, `<think>…</think>` and `<analysis>…</analysis>` (any case): every
    closed block is removed, wherever it is, so an answer written between two blocks is kept (as lmms-eval's
    default `--reasoning_tags` strips them). A closing tag with no opening one (the chat template opened it) keeps
    what follows the last one; an opening tag never closed leaves no answer at all."""
    for opening, closing in _REASONING:
        text = opening.sub("<\x00>", text)  # one marker per tag, whatever its case, found by plain search
        text = closing.sub("</\x00>", text)
        while (start := text.find("<\x00>")) >= 0 and (end := text.find("</\x00>", start)) >= 0:
            text = text[:start] + text[end + len("</\x00>") :]
        if "</\x00>" in text:
            text = text.rsplit("</\x00>", 1)[1]
        if "<\x00>" in text:
            return ""  # reasoning never closed: there is no answer
    return text


def _last_marker_end(text: str) -> int | None:
    """Where the answer after the last marker starts, or None when the reply has no marker."""
    lowered, end = text.lower(), len(text)
    while (position := lowered.rfind("final", 0, end)) >= 0:
        if position == 0 or not lowered[position - 1].isalnum():
            match = MARKER.match(text, position)
            if match:
                return match.end()
        end = position
    return None


def _last_marker_span(text: str) -> tuple[str, bool] | None:
    """What follows the last marker (the bracketed group, or the rest of its line) and whether it was bracketed."""
    start = _last_marker_end(text)
    if start is None:
        return None
    rest = text[start:]  # never cut short: a long list is read whole (all its letters or, if one is bad, none)
    if rest[:1] in _BRACKETS:
        close = rest.find(_BRACKETS[rest[0]])
        return (rest[1:close] if close >= 0 else rest[1:].split("\n", 1)[0]), True
    return rest.split("\n", 1)[0], False


def _letters(span: str, n_options: int, bracketed: bool) -> tuple[str, ...] | None:
    """The letters an answer span names, or None if any part of it is not a letter naming an option."""
    found = []
    for element in filter(None, (e.strip(" \t'\"." + _BRACKET_CHARS) for e in _LIST_SEPARATOR.split(span.strip()))):
        words = element.split()
        if all(len(word) == 1 and word.isalpha() for word in words):  # "A" or "A C"
            found.extend(words)
            continue
        match = _ELEMENT.match(element)
        if not match or (not bracketed and match.group(1).islower()):  # bare "a: ..." is more likely a word
            return None
        found.append(match.group(1))
    letters = {letter.upper() for letter in found}
    if not letters or not letters <= set(LETTERS[:n_options]):
        return None
    return tuple(sorted(letters))


def parse_final_options(text: str, n_options: int = 5) -> tuple[str, ...] | None:
    """Letters after the last "My final option(s):" marker, in A.. order; None when no answer can be read.

    Args:
        text: the model's raw reply (reasoning blocks, markdown and full-width characters are handled here).
        n_options: how many options the item has (1 to 5, else None); a letter beyond them makes the answer unreadable.

    Returns:
        The letters, sorted and de-duplicated, or None when the reply has no marker, the span after the last marker
        is not a list of option letters, or `text` is not a string. It never raises: an unreadable reply is None.

    >>> parse_final_options("<think>My final option: [A]</think> ... My final option: [c]")
    ('C',)
    >>> parse_final_options("**My final options:** B, A, B")
    ('A', 'B')
    >>> parse_final_options("My final option: [F]") is None  # F names no option of five
    True
    """
    if not isinstance(text, str) or not 1 <= n_options <= len(LETTERS):
        return None
    found = _last_marker_span(normalize(text))
    return None if found is None else _letters(found[0], n_options, found[1])


def match_option_text(text: str, options: Sequence[str]) -> tuple[str, ...] | None:
    """The letter of the one option whose text appears in `text` (case-insensitive, whole words); else None."""
    lowered = " ".join(text.lower().split())
    hits = [
        i
        for i, option in enumerate(options)
        if option and re.search(r"(?<!\w)" + re.escape(" ".join(option.lower().split())) + r"(?!\w)", lowered)
    ]
    return (LETTERS[hits[0]],) if len(hits) == 1 else None


def extract_answer(text: str, options: Sequence[str]) -> Extraction:
    """Stage by stage: the contract marker, then one unambiguous option text."""
    letters = parse_final_options(text, len(options))
    if letters is not None:
        return Extraction(letters, "marker")
    clean = normalize(text) if isinstance(text, str) else ""
    found = _last_marker_span(clean)
    letters = match_option_text(found[0] if found is not None else clean, options)
    return Extraction(letters, "option_text") if letters else Extraction(None, "none")
