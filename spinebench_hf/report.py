"""Results people can read. For now: the paper's main table from lighteval results files."""

from __future__ import annotations

import json
from pathlib import Path

from .metrics import overall

DIAGNOSIS, LOCALIZATION = "spinebench:diagnosis|0", "spinebench:localization|0"
COLUMNS = ["Model", "SDD Acc", "SLL Acc", "SLL Pre", "SLL Recall", "Overall Acc"]


def table_row(model: str, results: dict) -> list[str]:
    """One row of the paper's table (percentages); '-' where a task was not run."""
    diagnosis, localization = results.get(DIAGNOSIS), results.get(LOCALIZATION)
    cells = [diagnosis and diagnosis["acc"], localization and localization["acc"],
             localization and localization["precision"], localization and localization["recall"]]
    cells.append(overall(cells[0], cells[1]) if diagnosis and localization else None)
    return [model] + ["-" if value is None else f"{100 * value:.2f}" for value in cells]


def paper_table(results_files: dict[str, Path]) -> str:
    """Markdown: one row per model (name -> lighteval results JSON), plus the paper's random row."""
    rows = [table_row(name, json.loads(Path(path).read_text())["results"]) for name, path in results_files.items()]
    rows.append(["Random (paper)", "20.00", "-", "-", "-", "-"])
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
