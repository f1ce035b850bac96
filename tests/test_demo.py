"""`spinebench demo`, the README's main job, end to end (small): synthetic archives → build → baselines → table."""

import re

import pytest
from conftest import assert_one_truth_per_image

from spinebench_hf.cli import main
from spinebench_hf.demo import BANNER

pytestmark = pytest.mark.slow  # subprocesses / a whole run


def test_demo_prints_the_paper_table_for_the_three_baselines(tmp_path, capsys, recwarn):
    assert main(["demo", "--output", str(tmp_path / "demo"), "--per-source", "6"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert f"{BANNER}\n\n| Model | SDD Acc | SLL Acc | SLL Pre | SLL Recall | Overall Acc |" in out  # on the table
    # random weights are what a demo uses: no warning about them, the banner says it once
    assert out.count(BANNER) == 1 and "RANDOM" not in captured.err + out and "No pretrained" not in captured.err
    assert not [w for w in recwarn if "RANDOM" in str(w.message)]
    for name in ("report.md", "report.html", "table.md"):  # every page made from synthetic data says so
        text = (tmp_path / "demo" / "report" / name).read_text()
        assert BANNER in text and "Measured on a local build from the source archives" not in text
    rows = {
        line.split("|")[1].strip(): line for line in out.splitlines() if re.match(r"\| (random|healthy|nearest)", line)
    }
    assert set(rows) == {"random", "healthy", "nearest-neighbour"}
    assert all(re.fullmatch(r"\|( [\w-]+ \|)( \d+\.\d \|){5}", row) for row in rows.values()), rows
    assert (tmp_path / "demo" / "results.md").read_text().startswith(BANNER)
    assert (tmp_path / "demo" / "spinebench" / "build_report.json").exists()
    assert assert_one_truth_per_image(tmp_path / "demo" / "spinebench") > 0

    # the report reads the same runs back from lighteval's per-sample details and gives the same table
    assert main(["report", str(tmp_path / "demo" / "results"), "--output", str(tmp_path / "report")]) == 0
    report_out = capsys.readouterr().out
    assert all(row in report_out for row in rows.values())
    assert (tmp_path / "report" / "confusion_nearest-neighbour.png").stat().st_size > 5000

    # the rating kit on the same runs: real details, real images embedded in the page
    assert (
        main(
            [
                "rating-sheet",
                str(tmp_path / "demo" / "results"),
                "--output",
                str(tmp_path / "rating"),
                "--per-task",
                "2",
            ]
        )
        == 0
    )
    page = (tmp_path / "rating" / "rating_sheet.html").read_text()
    assert page.count('<section class="case"') == 3 * 2 * 2 and page.count("data:image/png;base64,") == 12
    assert BANNER in page  # the rating sheet of synthetic data says so too
    assert BANNER in (tmp_path / "report" / "report.html").read_text()  # and any later report of the same runs
