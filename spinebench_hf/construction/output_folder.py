"""The folder `spinebench build` and `import-release` write: made whole beside it, then swapped in.

A run writes everything into a fresh staging folder next to the output and, only once the dataset, its card and its
report are complete, puts it in the output's place. So a failed or interrupted run (a full disk, Ctrl-C) leaves the
previous dataset as it was, and a build never mixes with the files of an earlier import (or the other way round).

What an output folder may be: missing, empty, or a SpineBench dataset holding only the files SpineBench wrote
(`README.md`, the report, the parquet files the report lists). Anything else is the user's, and is refused rather
than deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import SpineBenchError

REPORTS = ("build_report.json", "import_report.json")
CARD = "README.md"


class OutputRefused(SpineBenchError):
    """The output folder holds something SpineBench did not write: it is never overwritten or deleted."""


def dataset_report(folder: Path) -> dict | None:
    """The build or import report of a SpineBench dataset folder, or None when there is none to read."""
    for name in REPORTS:
        with contextlib.suppress(OSError, ValueError):
            report = json.loads((folder / name).read_text(encoding="utf-8"))
            if isinstance(report, dict) and "spinebench_hf" in report:
                return report | {"_report": name}
    return None


def foreign_files(folder: Path) -> list[str]:
    """The files in `folder` that its SpineBench report does not account for (all of them when it has none)."""
    present = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    report = dataset_report(folder)
    if report is None:
        return present
    ours = {CARD, report["_report"], *report.get("files", {})}
    return [name for name in present if name not in ours]


def check_output(output: Path) -> None:
    """Refuse an output that is not a folder, or a folder holding anything but a SpineBench dataset."""
    if output.is_symlink() or (output.exists() and not output.is_dir()):
        raise OutputRefused(f"{output}: exists and is not a folder; give --output a new or empty folder")
    if not output.exists() or not any(output.iterdir()):
        return
    foreign = foreign_files(output)
    if dataset_report(output) is None:
        raise OutputRefused(
            f"{output}: not empty and not a SpineBench dataset (no build_report.json or import_report.json); "
            "SpineBench replaces its output folder whole, so it writes only into a new or empty folder or over an "
            "earlier SpineBench dataset: give another --output, or empty this one yourself"
        )
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise OutputRefused(
            f"{output}: holds files SpineBench did not write ({shown}); the new dataset would replace the folder "
            "whole, so they would be lost: move them elsewhere, or give another --output"
        )


@contextlib.contextmanager
def staged_output(output: str | Path) -> Iterator[Path]:
    """A staging folder beside `output` to write the whole dataset into; it replaces `output` when the block ends
    without an exception, and is removed (leaving `output` untouched) when it raises or is interrupted.

    Args:
        output: the dataset folder to write: missing, empty, or an earlier SpineBench dataset.

    Yields:
        The new, empty staging folder, in the folder of `output` (so on its file system).

    Raises:
        OutputRefused: `output` is not a folder, or holds files SpineBench did not write.
    """
    output = Path(os.path.abspath(output))  # "." too has a name and a parent folder
    check_output(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.spinebench-new-", dir=output.parent))
    try:
        yield staging
        swap_in(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap_in(staging: Path, output: Path) -> None:
    """Put `staging` in the place of `output` (two renames in one folder); the old dataset is removed last."""
    if not output.exists():
        staging.rename(output)
        return
    old = output.with_name(f".{output.name}.spinebench-old-{os.getpid()}")
    output.rename(old)
    try:
        staging.rename(output)
    except BaseException:
        old.rename(output)  # the previous dataset back in place
        raise
    shutil.rmtree(old, ignore_errors=True)
