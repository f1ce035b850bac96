"""`compare-encoders`: per-image similarities (the build's mining), hard negatives and the separation summary."""

import numpy as np
import pandas as pd
import pytest
from tiny_clip import register_tiny_model

from spinebench_hf.cli import main
from spinebench_hf.labels import DISEASES
from spinebench_hf.report.encoders import separation


def test_separation_summary():
    rows = np.full((3, len(DISEASES)), np.nan)
    rows[0, [0, 3]] = [0.9, 0.5]  # a Disc space narrowing image nearest its own library
    rows[1, [0, 3]] = [0.4, 0.8]  # an Osteophytes image nearest its own library
    rows[2, [0, 3]] = [0.7, 0.6]  # an Osteophytes image nearest another library
    result = separation("enc", rows, ["Disc space narrowing", "Osteophytes", "Osteophytes"])
    assert result["images"] == 3 and result["own_top1"] == pytest.approx(2 / 3)
    assert result["margin"] == pytest.approx(np.mean([0.4, 0.4, -0.1]))


@pytest.mark.slow
def test_compare_two_encoders(built, tmp_path, capsys):
    tiny = register_tiny_model()
    with pytest.warns(UserWarning):
        assert (
            main(
                [
                    "compare-encoders",
                    str(built / "data"),
                    "--encoder",
                    f"{tiny}:random",
                    "--encoder",
                    "ViT-B-32-SigLIP2-256:random",
                    "--limit",
                    "12",
                    "--output",
                    str(tmp_path),
                ]
            )
            == 0
        )
    assert "own_top1" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "similarity.csv")
    assert len(table) == 24 and set(table.encoder) == {f"{tiny}:random", "ViT-B-32-SigLIP2-256:random"}
    assert list(table.columns[3:14]) == [
        "Dsn",
        "Fs",
        "Sas",
        "Ost",
        "Scs",
        "Spondy",
        "Strcv",
        "Vc",
        "Ck",
        "Cl",
        "Sigcv",
    ]
    for row in table.itertuples():
        negatives = row.hard_negatives.split(", ")
        assert len(negatives) == 3 and row.correct not in negatives and "Healthy" not in negatives
    assert pd.read_csv(tmp_path / "separation.csv").shape[0] == 2
