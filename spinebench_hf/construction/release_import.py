"""`spinebench import-release`: the authors' release (JSON + images) → the same Hub-style folder as a build.

The questions, options, answers and images are the release's own: nothing is mined, re-worded or re-encoded. The
folder gets README.md (a card saying which release, by fingerprint, and the counts) and import_report.json (every
record used or skipped with its reason). Records are streamed from the release to the dataset writer: memory does
not grow with the release's size but for a few small sets (digests seen, records' counts).

Splits: `sub` is `evaluation/`, `full` is `all/` plus `evaluation/`, and `train` the questions of `all/` whose image
(by content) is not one of `sub`'s. `evaluation/` is read first, so `sub` is complete before any `all/` record.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from .. import __version__
from ..errors import SpineBenchError
from ..schema import CONFIGS, SUB_SIZES
from ..sources.records import Skip
from ..sources.release import ReleaseReader
from .card import render_release_card, write_card
from .dataset_folder import DatasetWriter, files_and_fingerprint, split_counts
from .output_folder import check_output, staged_output
from .train_split import ImageFacts, SubIndex

REPORT = "import_report.json"
TRAIN_RULE = "questions of all/ whose image, by content (sha256), is not an image of sub (evaluation/)"


def import_release(path: str | Path, output: str | Path) -> dict:
    """Import the release at `path` into `output`; return the import report (also written to import_report.json).

    Args:
        path: the folder the release was downloaded to (`evaluation/`, `all/`, and their images or zip files).
        output: the dataset folder to write: missing, empty, or an earlier SpineBench dataset.

    Returns:
        The import report: the release's fingerprint and files, the questions used and skipped (each skip with its
        reason), the splits' sizes, the `train` rule, every parquet file's sha256 and the fingerprint.

    Raises:
        OutputRefused: `output` is not a folder, or holds files SpineBench did not write.
        SourceFormatError: `path` is not a folder holding the release's question files.
        ReleaseFormatError: a question file is not valid JSON or not a list of records, or a diagnosis record has
            no options.
        SpineBenchError: no record of the release is usable.
    """
    check_output(Path(output))  # before any image is read
    reader = ReleaseReader(path)
    with staged_output(output) as staging:
        writer = DatasetWriter(staging)
        try:
            used, skips, excluded = stream_rows(reader, writer)
        except BaseException:
            writer.close()
            raise
        if not used:
            writer.close()
            reasons = Counter(skip.kind for skip in skips).most_common()
            example = f"; e.g. {skips[0].key}: {skips[0].reason}" if skips else ""
            raise SpineBenchError(f"{reader.root}: no usable question among {len(skips)} records ({reasons}){example}")
        written = writer.finish()
        report = import_report(reader, used, skips, excluded, written)
        write_card(staging, report, render=render_release_card)
        (staging / REPORT).write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report


def stream_rows(reader: ReleaseReader, writer: DatasetWriter) -> tuple[Counter, list[Skip], Counter]:
    """Every record to the writer or to the skips; returns (questions used by folder and task, skips, questions kept
    out of train by reason)."""
    used, skips, excluded, sub = Counter(), [], Counter(), SubIndex()
    for item in reader.read():
        if isinstance(item, Skip):
            skips.append(item)
            continue
        facts = ImageFacts(item.image_id, item.image.digest)
        in_sub = item.folder == "evaluation"
        if in_sub:
            sub.add(facts)
            leak = None
        else:
            leak = sub.leak(facts)
            excluded[leak or "kept"] += 0 if leak is None else 1
        used[item.folder, item.task] += 1
        writer.add(item.task, item.row() | {"train": not in_sub and leak is None}, item.image.size)
    return used, skips, +excluded


def import_report(reader: ReleaseReader, used: Counter, skips: list[Skip], excluded: Counter, written: dict) -> dict:
    """The import report: which release, the questions used and skipped, the splits' sizes and the files."""
    files, fingerprint = files_and_fingerprint(written)
    return {
        "spinebench_hf": __version__,
        "release_fingerprint": reader.fingerprint(),
        "release_files": reader.files,
        "splits": split_counts(written),
        "used": {
            folder: {task: used[folder, task] for task in CONFIGS if used[folder, task]} for folder in reader.files
        },
        "skipped": dict(sorted(Counter(skip.kind for skip in skips).items())),
        "paper_sub": {
            config: {"release": used["evaluation", config], "paper": SUB_SIZES[config]} for config in CONFIGS
        },
        "train": {"rule": TRAIN_RULE, "excluded_questions": dict(sorted(excluded.items()))},
        "skips": [asdict(skip) for skip in skips],
        "files": files,
        "fingerprint": fingerprint,
    }
