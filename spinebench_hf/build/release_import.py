"""`spinebench import-release`: the authors' release (JSON + images) → the same Hub-style folder as a build.

The questions, options, answers and images are the release's own: nothing is mined, re-worded or re-encoded. The
folder gets README.md (a card saying which release, by fingerprint, and the counts) and import_report.json (every
record used or skipped with its reason).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from .. import __version__
from ..errors import SpineBenchError
from ..schema import CONFIGS
from ..sources.records import Skip
from ..sources.release import ReleaseQuestion, ReleaseReader
from .card import render_release_card, write_card
from .dataset_folder import files_and_fingerprint, split_counts, write_configs
from .output_folder import check_output, staged_output
from .subset import SUB_SIZES

REPORT = "import_report.json"


def import_release(path: str | Path, output: str | Path) -> dict:
    """Import the release at `path` into `output`; return the import report (also written to import_report.json)."""
    check_output(Path(output))  # before any image is read
    reader = ReleaseReader(path)
    questions: list[ReleaseQuestion] = []
    skips: list[Skip] = []
    for item in reader.read():
        (skips if isinstance(item, Skip) else questions).append(item)
    if not questions:
        reasons = Counter(skip.kind for skip in skips).most_common()
        example = f"; e.g. {skips[0].key}: {skips[0].reason}" if skips else ""
        raise SpineBenchError(f"{reader.root}: no usable question among {len(skips)} records ({reasons}){example}")
    rows = {config: [q.row() for q in questions if q.task == config] for config in CONFIGS}
    with staged_output(output) as staging:
        written = write_configs(rows, staging)
        report = import_report(reader, questions, skips, written)
        write_card(staging, report, render=render_release_card)
        (staging / REPORT).write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report


def import_report(reader: ReleaseReader, questions: list[ReleaseQuestion], skips: list[Skip], written: dict) -> dict:
    files, fingerprint = files_and_fingerprint(written)
    return {
        "spinebench_hf": __version__,
        "release_fingerprint": reader.fingerprint(),
        "release_files": reader.files,
        "splits": split_counts(written),
        "used": {folder: dict(Counter(q.task for q in questions if q.folder == folder)) for folder in reader.files},
        "skipped": dict(sorted(Counter(skip.kind for skip in skips).items())),
        "paper_sub": {config: {"release": sum(q.folder == "evaluation" for q in questions if q.task == config),
                               "paper": SUB_SIZES[config]} for config in CONFIGS},
        "skips": [asdict(skip) for skip in skips],
        "files": files,
        "fingerprint": fingerprint,
    }
