import json
import re
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
    for line in [
        "buu: 10 images used, 0 skipped",
        "csxa: 8 images used, 0 skipped",
        "rsna: 10 images used, 0 skipped",
        "vindr: 7 images used, 1 skipped",
        "image skipped dropped-label          1   e.g. carries ['Surgical implant']",
        "Spinal canal stenosis",
    ]:
        assert line in out
    skips = json.loads(report.read_text())["skips"]
    assert [s["kind"] for s in skips] == ["dropped-label"]  # the sample's one "Surgical implant" image


@pytest.mark.slow
def test_wrong_source_is_an_error_without_traceback(tmp_path):
    paths = write_samples(tmp_path, per_source=6)
    result = subprocess.run(
        [sys.executable, "-m", "spinebench_hf.cli", "scan", "--vindr", str(paths["csxa"])],
        capture_output=True,
        text=True,
    )
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
    argv = [
        "build",
        "--buu",
        str(buu_with_a_row_more_in_every_csv(tmp_path)),
        "--csxa",
        str(paths["csxa"]),
        "--output",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--encoder-weights",
        "random",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("spinebench: error: BUU-LSPINE (buu): no usable image: 0 of 8 candidate images usable")
    assert "8 skipped as bad-annotation, e.g. AP/0001-F-045Y0: " in err and "expected 10 endplate rows" in err
    assert err.rstrip().endswith("To build with what is usable: --allow-partial buu")  # CSXA is complete
    assert not (tmp_path / "cache" / "images").exists()  # stopped before standardizing a single image
    assert not (tmp_path / "out" / "build_report.json").exists()

    from tiny_clip import register_tiny_model

    allowed = [*argv, "--allow-partial", "buu", "--encoder", register_tiny_model(), "--max-side", "32"]
    with pytest.warns(UserWarning, match="RANDOM"):
        assert main(allowed) == 0
    report = json.loads((tmp_path / "out" / "build_report.json").read_text())
    assert report["sources"]["buu"]["images"] == 0 and report["sources"]["buu"]["skipped"] == {"bad-annotation": 8}
    assert report["sources"]["csxa"]["images"] == 6


def test_the_majority_rule_counts_images_not_rows():
    from dataclasses import replace

    from spinebench_hf.sources import BuuReader, RsnaReader
    from spinebench_hf.sources.records import ImageRef, Record, Skip
    from spinebench_hf.sources.scan import PartialSourceError, ScanReport, check_complete

    record = Record("rsna", "k", "p", "s", "MRI", "Sagittal T1", ("Healthy",), (), ImageRef(None, "m", "dicom"))

    def report(used: int, skipped: int, rows: int = 0) -> ScanReport:
        return ScanReport(
            records=[replace(record, key=f"k{i}") for i in range(used)],
            skips=[Skip("rsna", f"s{i}", "missing-image", "gone") for i in range(skipped)]
            + [Skip("rsna", f"r{i}", "unknown-label", "a row", image=False) for i in range(rows)],
        )

    check_complete(report(4, 4), [RsnaReader])  # half skipped: still built
    check_complete(report(4, 0, rows=100), [RsnaReader])  # skipped rows are not images
    with pytest.raises(PartialSourceError, match=r"\(rsna\): more images skipped than used: 3 of 7 candidate"):
        check_complete(report(3, 4), [RsnaReader])
    check_complete(report(3, 4), [RsnaReader], allowed=["rsna"])
    with pytest.raises(PartialSourceError, match=r"BUU-LSPINE \(buu\): no usable image: 0 of 0 candidate"):
        check_complete(report(3, 4), [BuuReader])  # a source that yields nothing at all


def test_circular_eval_on_a_folder_that_is_not_a_dataset_is_a_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SPINEBENCH_DATA", str(tmp_path))
    assert main(["eval", "--circular", "custom", "m", "f.py", "spinebench:diagnosis_circular|0"]) == 2
    assert "not a SpineBench dataset folder (no build_report.json or import_report.json)" in capsys.readouterr().err


def subcommands() -> dict:
    import argparse

    from spinebench_hf.cli import build_parser

    actions = build_parser()._actions
    return next(a for a in actions if isinstance(a, argparse._SubParsersAction)).choices


def test_every_subcommand_and_argument_says_what_it_is():
    for name, command in subcommands().items():
        assert command.description, name  # `spinebench NAME --help` opens with what it does
        unhelped = [a.dest for a in command._actions if not a.help]
        assert not unhelped, (name, unhelped)
    report = subcommands()["report"].format_help()
    assert all(word in report for word in ("lighteval", "lmms-eval", "sweep"))  # every input it reads


def test_the_readme_lists_every_subcommand_once():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    table = re.findall(r"^\| `spinebench ([a-z-]+)` \|", readme, flags=re.MULTILINE)
    assert sorted(table) == sorted(subcommands()) and len(table) == len(set(table))
