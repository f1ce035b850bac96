"""`spinebench leaderboard`: one static page ranking the models, each linked to its own report.

`index.html` is self-contained (style and script inline, no network): it works opened from disk and as a Hub
static Space (the README.md beside it is the Space's card). Columns: Overall (the paper's: the mean of the two task
accuracies, each task weighing one half), diagnosis and localization accuracy, then Overall per source and per
modality where the runs hold more than one; every cell with its 95 % interval clustered by study. The paper's
published rows stand beside, marked, without intervals (the paper gives none). Clicking a column header sorts by it.
Each model's report (`models/<name>/report.html`) is written by `tables.write_report`, restricted images withheld
unless asked otherwise (`licences`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import SpineBenchError
from ..schema import FAILED_STAGE, UNKNOWN
from ..source_catalog import CATALOG
from .formatting import interval, percent, unique_slugs
from .tables import PAPER_RESULTS, beside_rows, overall_estimate, write_report

SPACE_CARD = """---
title: SpineBench leaderboard
emoji: 🦴
colorFrom: blue
colorTo: gray
sdk: static
app_file: index.html
pinned: false
tags:
- spinebench
- leaderboard
---

SpineBench (arXiv 2510.12267) results, written by `spinebench leaderboard` (spinebench-hf). Open `index.html`.
"""


@dataclass(frozen=True)
class Column:
    """A leaderboard column: its key (sorting, tests), its heading, and which questions it scores."""

    key: str
    title: str
    rows: Callable[[pd.DataFrame], pd.DataFrame]


def columns(scored: pd.DataFrame) -> list[Column]:
    """The columns for these runs: Overall, the two tasks, then each source and modality when there are several."""
    found = [
        Column("overall", "Overall", lambda rows: rows),
        Column("diagnosis", "Diagnosis (SDD Acc)", lambda rows: rows[rows.task == "diagnosis"]),
        Column("localization", "Localization (SLL Acc)", lambda rows: rows[rows.task == "localization"]),
    ]
    for by in ("source", "modality"):
        values = sorted(v for v in scored[by].unique() if v != UNKNOWN)
        if len(values) > 1:
            found += [
                Column(f"{by}:{value}", _title(by, value), lambda rows, by=by, value=value: rows[rows[by] == value])
                for value in values
            ]
    return found


def _title(by: str, value: str) -> str:
    """A source's title (BUU-LSPINE) or a modality as it is."""
    return CATALOG[value].short_title if by == "source" and value in CATALOG else value


def model_rows(scored: pd.DataFrame, table: list[Column], reports: Mapping[str, str]) -> list[dict]:
    """One row per model: every column's estimate (`value` sorts, `text` shows), its report link, and how many of
    its requests failed (an incomplete model is marked, never ranked as if complete)."""
    rows = []
    for model, group in scored.groupby("model", sort=True):
        answered = group[group.stage != FAILED_STAGE]
        cells = {}
        for column in table:
            estimate = overall_estimate(column.rows(answered))
            cells[column.key] = (
                {
                    "value": estimate.mean,
                    "text": percent(estimate.mean),
                    "interval": interval(estimate.low, estimate.high),
                    "n": estimate.n,
                }  # fmt: skip
                if estimate is not None
                else {"value": None, "text": percent(None), "interval": "", "n": 0}
            )
        failed = int((group.stage == FAILED_STAGE).sum())
        rows.append({"model": model, "paper": False, "report": reports.get(model), "failed": failed, "cells": cells})
    return rows


def paper_rows(table: list[Column]) -> list[dict]:
    """The paper's published rows (SpineBench-Sub): Overall and the two task accuracies; nothing else published."""
    published = {"overall": 5, "diagnosis": 1, "localization": 2}  # their positions in PAPER_RESULTS
    rows = []
    for result in PAPER_RESULTS:
        cells = {}
        for column in table:
            value = float(result[published[column.key]]) / 100 if column.key in published else None
            cells[column.key] = {"value": value, "text": percent(value), "interval": "", "n": None}
        rows.append({"model": result[0], "paper": True, "report": None, "failed": 0, "cells": cells})
    return rows


def _by_overall(row: dict) -> tuple[bool, float]:
    """Rank by Overall, highest first; rows without one last."""
    value = row["cells"]["overall"]["value"]
    return value is None, -(value or 0.0)


def report_folders(scored: pd.DataFrame) -> dict[str, str]:
    """Each model's report folder under `models/`; two models whose names make the same folder are refused."""
    return unique_slugs(scored.model.unique(), "report folder")


LEADERBOARD_FILES = {"index.html", "README.md", "models"}


def refuse_foreign_folder(output: Path) -> None:
    """Stop before writing into a folder that holds anything but an earlier leaderboard: its README.md (the Space
    card) and files of the same names would be overwritten.

    Raises:
        SpineBenchError: `output` is a file, or a folder with other files or a README.md that is not our card.
    """
    if not output.exists():
        return
    if not output.is_dir():
        raise SpineBenchError(f"{output}: not a folder; give a new or empty folder, or an earlier leaderboard's")
    others = sorted(p.name for p in output.iterdir() if p.name not in LEADERBOARD_FILES)
    readme = output / "README.md"
    ours = not readme.exists() or readme.read_text(encoding="utf-8", errors="replace") == SPACE_CARD
    if others or not ours:
        held = ", ".join(others[:3]) if others else "a README.md that is not the leaderboard's"
        raise SpineBenchError(
            f"{output}: holds {held}, which a leaderboard would overwrite or mix with; give a new or empty folder, "
            "or an earlier leaderboard's"
        )


def write_leaderboard(
    scored: pd.DataFrame,
    output: str | Path,
    images: Callable[[set[str]], dict] | None = None,
    withheld: Mapping[str, str] | None = None,
    *,
    fingerprints: Sequence[str] = (),
    banner: str | None = None,
) -> Path:
    """Write `index.html`, the Space card and one report per model; returns index.html's path.

    Args:
        scored: the scored questions of `details.scored_questions` (protocol tasks ranked; the robustness variants
            appear in each model's report only).
        output: the leaderboard folder (made if missing; files of the same names are overwritten).
        images: as for `tables.write_report`, the gallery's images by question id.
        withheld: question ids whose image must not be shown, with the reason (`licences.withheld_images`).
        fingerprints: as for `tables.write_report` (`runs.about_datasets`): the datasets the runs were on.
        banner: as for `tables.write_report`: the synthetic-data note, shown on every page.

    Returns:
        The path of index.html.

    Raises:
        SpineBenchError: two models' names make the same folder name, there is no scored question, or `output`
            holds other files than an earlier leaderboard's (nothing is then written).
    """
    from .pages import render

    output = Path(output)
    if scored.empty:
        raise SpineBenchError("no scored question in the runs given: nothing to rank")
    folders = report_folders(scored)
    refuse_foreign_folder(output)
    output.mkdir(parents=True, exist_ok=True)
    reports = {}
    for model, folder in folders.items():
        write_report(scored[scored.model == model], output / "models" / folder, images, withheld,
                     fingerprints=fingerprints, banner=banner)  # fmt: skip
        reports[model] = f"models/{folder}/report.html"
    protocol = scored[scored.variant == ""] if "variant" in scored else scored
    table = columns(protocol)
    note, _ = beside_rows(protocol, banner)
    ranked = sorted(model_rows(protocol, table, reports) + paper_rows(table), key=_by_overall)
    page = render("leaderboard.html", "SpineBench leaderboard", "leaderboard.js", columns=table, note=note,
                  rows=ranked, banner=banner)  # fmt: skip
    (output / "index.html").write_text(page, encoding="utf-8")
    (output / "README.md").write_text(SPACE_CARD, encoding="utf-8")
    return output / "index.html"
