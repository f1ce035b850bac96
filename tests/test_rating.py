"""The reasoning-rating kit: sample, write the sheets, fill them as two raters, read back, summarize."""

import numpy as np
import pandas as pd
import pytest
from conftest import RECORDS

from spinebench_hf.errors import SpineBenchError
from spinebench_hf.report.rating import CRITERIA, RUBRIC, read_sheets, sample_replies, summarize, write_sheet

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")  # a PNG header is enough here


def details():
    rows = RECORDS.assign(
        question="Which spinal disorder is this patient suffering from?",
        options="[A: x, B: y]",
        correct="x",
        reply=[f"reasoning {i} ... My final option: [A]" for i in range(len(RECORDS))],
        image=PNG,
    )
    return pd.concat([rows.assign(id=rows.id + f"-{k}") for k in range(6)], ignore_index=True)


def test_sheet_round_trip(tmp_path):
    sample = sample_replies(details(), per_task=3, seed=1)
    assert len(sample) == 3 * 4  # 2 models x 2 tasks
    assert sample.equals(sample_replies(details(), per_task=3, seed=1))
    files = write_sheet(sample, tmp_path)
    page = files["html"].read_text()
    assert (
        page.count('<section class="case">') == 12
        and "data:image/png;base64," in page
        and "Figure 11" in page
        and "seed" not in page.lower()
    )
    assert all(anchor in page for *_, anchors in RUBRIC for anchor in anchors.values())
    sheet = pd.read_csv(files["sheet"], dtype=str, keep_default_na=False)
    assert list(sheet.columns[:6]) == ["sample", "task", "question", "options", "correct", "reply"]
    assert "m1" not in sheet.to_string()  # raters do not see the model names
    agreed = [str(v) for v in np.random.default_rng(0).integers(1, 6, len(sheet))]
    filled = []
    for rater in ("r1", "r2"):  # two raters who give the same scores
        path = tmp_path / f"{rater}.csv"
        sheet.assign(rater=rater, **{criterion: agreed for criterion in CRITERIA}).to_csv(path, index=False)
        filled.append(path)
    scores = read_sheets(filled, files["key"])
    assert len(scores) == 2 * 12 * len(CRITERIA)
    means, agreement = summarize(scores)
    key = pd.read_csv(files["key"])
    direct = scores[scores.criterion == CRITERIA[0]].merge(key, on="sample")
    expected = direct[(direct.model_x == "m1") & (direct.task_x == "diagnosis")].score.mean()
    got = means.query("model == 'm1' and task == 'diagnosis' and criterion == @CRITERIA[0]")["mean"].item()
    assert got == pytest.approx(expected)
    assert agreement.alpha.tolist() == pytest.approx([1.0] * len(CRITERIA))  # the two raters agree exactly


def test_bad_scores_are_clear_errors(tmp_path):
    files = write_sheet(sample_replies(details(), per_task=1), tmp_path)
    sheet = pd.read_csv(files["sheet"], dtype=str, keep_default_na=False)
    sheet.loc[0, CRITERIA[1]] = "6"
    sheet.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(SpineBenchError, match=r"bad.csv, line 2, visual_features: '6' is not a score from 1 to 5"):
        read_sheets([tmp_path / "bad.csv"], files["key"])
