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
    for line in ["buu: 10 images used, 0 skipped", "csxa: 8 images used, 0 skipped", "rsna: 10 images used, 0 skipped",
                 "vindr: 7 images used, 1 skipped", "image skipped dropped-label          1   e.g. carries "
                 "['Surgical implant']", "Spinal canal stenosis"]:
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


def buu_with_a_row_more_in_every_csv(tmp_path):
    """A BUU archive that differs from what the reader expects in every file: one endplate row too many."""
    from spinebench_hf.sources.synthetic import BuuCase, pack, write_buu

    folder = write_buu(tmp_path / "buu", [BuuCase(p) for p in range(1, 5)])
    for csv in folder.rglob("*.csv"):
        csv.write_text(csv.read_text() + "1.0,2.0,3.0,4.0,0\n")
    return pack(folder, tmp_path / "BUU-LSPINE_400.zip", wrapper="BUU-LSPINE_400/")


def test_a_mostly_skipped_source_stops_the_build_before_decoding(tmp_path, capsys):
    paths = write_samples(tmp_path / "samples", per_source=6)
    argv = ["build", "--buu", str(buu_with_a_row_more_in_every_csv(tmp_path)), "--csxa", str(paths["csxa"]),
            "--output", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--encoder-weights", "random"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("spinebench: error: buu: no usable image: 0 of 8 candidate images usable")
    assert "8 skipped as bad-annotation, e.g. AP/0001-F-045Y0: " in err and "expected 10 endplate rows" in err
    assert "--allow-partial buu" in err and "csxa" not in err.split("The archive")[0]
    assert not (tmp_path / "cache" / "images").exists()  # stopped before standardizing a single image
    assert not (tmp_path / "out" / "build_report.json").exists()
