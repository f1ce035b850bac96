import json
import subprocess
import sys

import pytest

from spinebench_hf.cli import main
from spinebench_hf.sources.synthetic import write_samples


def test_samples_then_scan_every_source(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SPINEBENCH_CACHE", str(tmp_path / "cache"))
    assert main(["samples", "--output", str(tmp_path / "samples"), "--per-source", "8"]) == 0
    command = capsys.readouterr().out.splitlines()[-1].split()
    assert command[:2] == ["spinebench", "scan"]
    report = tmp_path / "skips.json"
    assert main(command[1:] + ["--decode", "--max-side", "64", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    for line in ["buu: 10 images", "csxa: 8 images", "rsna: 6 images", "vindr: 7 images",
                 "skipped dropped-label", "Spinal canal stenosis"]:
        assert line in out
    skips = json.loads(report.read_text())["skips"]
    assert [s["kind"] for s in skips] == ["dropped-label"]  # the sample's one "Surgical implant" image


@pytest.mark.slow
def test_wrong_source_is_an_error_without_traceback(tmp_path):
    paths = write_samples(tmp_path, per_source=6)
    result = subprocess.run([sys.executable, "-m", "spinebench_hf.cli", "scan", "--vindr", str(paths["csxa"])],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("spinebench: error: ") and "Traceback" not in result.stderr
    assert "is not a VinDr-SpineXR source: no 'annotations/train.csv' found at any depth" in result.stderr


def test_scan_needs_a_source(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["scan"])
    assert exit_info.value.code == 2
    assert "give at least one source: --buu PATH, --csxa PATH, --rsna PATH, --vindr PATH" in capsys.readouterr().err
