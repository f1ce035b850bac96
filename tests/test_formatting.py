"""One number format everywhere: the formatter's rules, and the report's tables and matrices built on it."""

import math
import re

import pandas as pd
import pytest
from conftest import RECORDS

from spinebench_hf.report.formatting import cell, display_frame, interval, p_value, percent, with_interval
from spinebench_hf.report.tables import matrices, matrix_markdown, ranking, write_report

TOO_PRECISE = re.compile(r"\d\.\d{3,}|\de[-+]?\d", re.IGNORECASE)  # more than 2 decimals, or scientific notation


@pytest.mark.parametrize(
    "value, shown",
    [(0, "0.0"), (1, "100.0"), (0.5, "50.0"), (0.43751, "43.8"), (0.00049, "0.0"), (0.0005, "0.1"),
     (-1.4e-17, "0.0"), (2.776e-17, "0.0"), (1 - 1e-16, "100.0"), (-0.25, "-25.0"), (None, "-"),
     (math.nan, "-")],
)  # fmt: skip
def test_percentages_have_one_decimal_and_never_a_sign_on_zero(value, shown):
    assert percent(value) == shown


def test_intervals_and_p_values():
    assert with_interval(0.4375, 0.3121, 0.5702) == "43.8 [31.2, 57.0]"
    assert with_interval(0.5, 1.388e-17, 2.776e-17) == "50.0 [0.0, 0.0]"  # floating-point noise is 0
    assert with_interval(0.5, math.nan, 0.9) == "50.0" and interval(None, 0.5) == ""
    assert (p_value(0.25), p_value(0.004), p_value(0.005), p_value(1.0), p_value(None)) == (
        "0.25", "< 0.01", "0.01", "1.00", "-"
    )  # fmt: skip
    assert [cell("n", 12.0), cell("failed", 3), cell("acc", 0.5), cell("p_value", 0.5), cell("model", "m")] == [
        "12", "3", "50.0", "0.50", "m"
    ]  # fmt: skip


def test_a_table_shows_estimates_with_their_interval_in_one_cell():
    frame = pd.DataFrame({"model": ["m"], "task": ["diagnosis"], "n": [4], "acc": [0.25],
                          "ci_low": [-2.7e-17], "ci_high": [0.6993], "p_value": [0.0001]})  # fmt: skip
    shown = display_frame(frame)
    assert list(shown.columns) == ["model", "task", "n", "acc % [95 % CI]", "p_value"]
    assert shown.iloc[0].tolist() == ["m", "diagnosis", "4", "25.0 [0.0, 69.9]", "< 0.01"]


def test_matrices_put_the_models_across():
    found = {m.title: m for m in matrices(RECORDS)}
    disease = found["Diagnosis accuracy by disease"]
    assert disease.models == ["m1", "m2"] and {label for label, _ in disease.rows} == {
        "Healthy", "Osteophytes", "Vertebral collapse"
    }  # fmt: skip
    assert "Localization recall by level" in found and "Diagnosis accuracy by source" in found
    text = matrix_markdown(disease)
    assert text.splitlines()[0] == "| disease | m1 | m2 |" and "(n 2)" in text


def test_the_summary_ranks_by_overall_and_marks_chance():
    ranked = ranking(RECORDS)
    assert ranked.model.tolist() == ["1. m1", "2. m2", "Chance (guessing)"]
    assert ranked.iloc[-1]["Overall % [95 % CI]"] == "11.6"
    assert re.fullmatch(r"\d+\.\d \[\d+\.\d, \d+\.\d\]", ranked.iloc[0]["Overall % [95 % CI]"])


def test_no_number_in_the_report_has_more_than_two_decimals(tmp_path):
    scored = RECORDS.assign(question="Which?", reply="My final option: A")
    markdown = write_report(scored, tmp_path).read_text()
    tables = [line for line in markdown.splitlines() if line.startswith("|")]
    assert tables and not [line for line in tables if TOO_PRECISE.search(line)]
    assert "## Summary" in markdown and "Chance (guessing)" in markdown
