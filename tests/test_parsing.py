"""The answer parser: a table of hand-written replies (the seed's Figures 12-15 among them) and property tests."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinebench_hf.parsing import extract_answer, parse_final_options

FIG12 = (
    "Based on the provided MRI image, the spinal canal appears narrowed, which is indicative of spinal canal "
    "stenosis. ... Subarticular stenosis (B) typically involves the narrowing of the joint space, which is not "
    "evident here. Osteophytes (D) are bone spurs ... Neural foraminal narrowing (E) involves ... ruling out a "
    "healthy state (C). Therefore, the most accurate diagnosis based on the MRI is spinal canal stenosis. "
    "My final option: A"
)
FIG13 = (
    "First, let's consider each of the answer choices:A: Cervical Kyphosis – This refers to an abnormal reversal "
    "... C: Healthy – Implies the absence of pathological changes. D: Foraminal Stenosis ... E: Osteophytes ... "
    "the image best represents a healthy cervical spine. My final option: [C]"
)
FIG14 = (
    "... making spondylolisthesis (option E) unlikely. - There is no visible vertebral body collapse (option C) ... "
    "osteophyte formation (option B) ... narrowed intervertebral disc spaces (option A) ... there are no features "
    "of degenerative or structural spinal pathology visible. My final option: [D]"
)
FIG15 = (
    '"*E: Straight cervical vertebrae*": The cervical spine is indeed straight, lacking the natural lordotic '
    "curve. ... Based on the image, the most accurate answer is E: Straight cervical vertebrae (loss of cervical "
    "lordosis).My final"
)
ECHO = (
    "The Question is: What is the site? The candidate Options are: [A: L1/L2, B: L2/L3, C: L3/L4, D: L4/L5, "
    "E: L5/S1]. ... reasoning ...\nMy final options: [D, E]"
)

CASES = [  # (reply, number of options, expected letters)
    ("My final option: [B]", 5, ("B",)),
    ("My final options: [A, C]", 5, ("A", "C")),
    ("My final options: [C, A]", 5, ("A", "C")),
    ("My final options: [A, A, C]", 5, ("A", "C")),
    ("My final options: [A,C,E]", 5, ("A", "C", "E")),
    ("My final options: [A and C]", 5, ("A", "C")),
    ("My final options: [A; B]", 5, ("A", "B")),
    ("My final options: [A C]", 5, ("A", "C")),
    ("My final options: A, C", 5, ("A", "C")),
    ("My final option: A", 5, ("A",)),
    ("My final option: A.", 5, ("A",)),
    ("My final option: (B)", 5, ("B",)),
    ("My final option: {B}", 5, ("B",)),
    ("My final option is C.", 5, ("C",)),
    ("My final option [B]", 5, ("B",)),
    ("my final option: [d]", 5, ("D",)),
    ("MY FINAL OPTION: [E]", 5, ("E",)),
    ("**My final option: [B]**", 5, ("B",)),
    ("My final option: **B**", 5, ("B",)),
    ("My final option: `C`", 5, ("C",)),
    ("My final option：［Ｄ］", 5, ("D",)),  # full-width colon and brackets
    ("My final option: [Ｂ]", 5, ("B",)),
    ("My final option: [A: Spinal canal stenosis]", 5, ("A",)),
    ("My final options: [A: L1/L2, C: L3/L4]", 5, ("A", "C")),
    ("My final option: B) Osteophytes", 5, ("B",)),
    ("Final option: [B]", 5, ("B",)),
    ("My final option: [B]\nMy final option: [D]", 5, ("D",)),  # the last marker wins
    ("A 45-year-old patient ... My final option: [B]", 5, ("B",)),
    ("I considered A and C but my final option: [D]", 5, ("D",)),
    ("<think>maybe A</think>My final option: [C]", 5, ("C",)),
    ("<think>My final option: [A]</think>\nMy final option: [E]", 5, ("E",)),
    ("reasoning... </think> My final option: [B]", 5, ("B",)),  # template opened <think>, reply only closes it
    ("<think>My final option: [A] and the answer is long", 5, None),  # reasoning never closed
    ("My final option: [B]\nThe final option was chosen because B fits.", 5, ("B",)),  # prose is no marker
    (ECHO, 5, ("D", "E")),  # the echoed option list is ignored
    (FIG12, 5, ("A",)),
    (FIG13, 5, ("C",)),
    (FIG14, 5, ("D",)),
    (FIG15, 5, None),  # cut off before its marker
    ("My final option: [X]", 5, None),  # the placeholder
    ("My final option: [F]", 5, None),  # not an option
    ("My final option: [E]", 4, None),  # E does not exist with 4 options
    ("My final option: []", 5, None),
    ("My final options: [A or C]", 5, None),  # undecided: never a guess
    ("My final options: [L4/L5, L5/S1]", 5, None),  # option texts, not letters
    ("my final option: a narrowing of the canal", 5, None),
    ("My final option: I think B", 5, None),
    ("My final option: ABC", 5, None),  # "ABC" is not a letter list (openai/evals #1767)
    ("**B**", 5, None),
    ("The answer is B.", 5, None),
    ("", 5, None),
    ("My final", 5, None),
]


@pytest.mark.parametrize("reply, n_options, expected", CASES)
def test_parse_final_options(reply, n_options, expected):
    assert parse_final_options(reply, n_options) == expected


def test_table_is_large_enough():
    assert len(CASES) >= 40


DIAGNOSIS_OPTIONS = ["Spinal canal stenosis", "Subarticular stenosis", "Healthy", "Osteophytes", "Foraminal stenosis"]
LEVEL_OPTIONS = ["L3/L4", "L1/L2", "L4/L5", "L2/L3", "L5/S1"]


@pytest.mark.parametrize(
    "reply, options, letters, stage",
    [
        ("My final option: [B]", DIAGNOSIS_OPTIONS, ("B",), "marker"),
        ("The image shows osteophytes at the vertebral margins.", DIAGNOSIS_OPTIONS, ("D",), "option_text"),
        ("My final option: Osteophytes", DIAGNOSIS_OPTIONS, ("D",), "option_text"),
        ("My final option: [Foraminal stenosis]", DIAGNOSIS_OPTIONS, ("E",), "option_text"),
        ("Not healthy: osteophytes and foraminal stenosis.", DIAGNOSIS_OPTIONS, None, "none"),  # two options named
        ("Spinal stenosis", DIAGNOSIS_OPTIONS, None, "none"),  # no option named exactly
        ("My final options: [L4/L5]", LEVEL_OPTIONS, ("C",), "option_text"),
        ("My final options: [L4/L5, L5/S1]", LEVEL_OPTIONS, None, "none"),
        ("I cannot assess this image; please consult a physician.", DIAGNOSIS_OPTIONS, None, "none"),
        ("Healthy spine? <think>", DIAGNOSIS_OPTIONS, None, "none"),
    ],
)
def test_extraction_stages(reply, options, letters, stage):
    result = extract_answer(reply, options)
    assert (result.letters, result.stage) == (letters, stage)


@pytest.mark.parametrize(
    "reply, letters",
    [
        ("My final option: 【B】", ("B",)),  # CJK lenticular brackets (NFKC keeps them)
        ("My final options: 〔A, C〕", ("A", "C")),  # tortoise-shell brackets
        ("My final option【D】", ("D",)),
        ("我的答案。My final options: 【A，E】", ("A", "E")),  # full-width comma
    ],
)
def test_brackets_of_other_scripts(reply, letters):
    assert parse_final_options(reply) == letters


LONG = ", ".join("ABCDE" * 1000)  # 14,999 characters of valid letters


@pytest.mark.parametrize(
    "reply, letters",
    [
        (f"My final options: [{LONG}]", tuple("ABCDE")),
        (f"My final options: [{LONG}, F]", None),  # one bad letter far beyond any window: none, not a subset
        (f"My final options: {LONG}, F", None),
        (f"My final options: [{LONG}", tuple("ABCDE")),  # unclosed: the rest of the line, whole
        (f"My final options: [{', '.join('AB' * 3000)}, C]", ("A", "B", "C")),  # the last letter counts too
    ],
)
def test_a_long_list_gives_all_its_letters_or_none(reply, letters):
    assert parse_final_options(reply) == letters


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=-2, max_value=8))
def test_never_raises(text, n_options):
    result = parse_final_options(text, n_options)
    assert result is None or (result == tuple(sorted(set(result))) and all(len(letter) == 1 for letter in result))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ABCE abc,[]()<>/:;*think\nMyfinalopts：［］")), max_size=300))
def test_never_raises_on_marker_like_text(text):
    result = extract_answer(text, DIAGNOSIS_OPTIONS)
    assert result.stage in ("marker", "option_text", "none")


def timed(text):
    start = time.perf_counter()
    extract_answer(text, DIAGNOSIS_OPTIONS)
    return time.perf_counter() - start


@pytest.mark.parametrize("unit", ["My final option: [", "<think>" + "a" * 10, "A, " * 5, "final options " * 3])
def test_linear_time_on_long_inputs(unit):
    small, large = unit * 5_000, unit * 40_000
    timed(small)  # warm up
    ratio = min(timed(large) for _ in range(3)) / max(min(timed(small) for _ in range(3)), 1e-6)
    assert ratio < 8 * 3, ratio  # 8x the input: linear would be ~8x; quadratic ~64x
