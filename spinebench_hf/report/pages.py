"""The two pages people look at: the results report (`report.html`) and the clinicians' rating form.

Both are rendered from the jinja2 templates in `spinebench_hf/templates/pages/` with autoescape on: every text that
comes from a dataset or a model is escaped (a reply holding `<script>` shows as text); only the tables pandas renders
(escaped by pandas) and the plots are passed in as markup. Each page is one self-contained file (images embedded,
styles and scripts inline, no network) that works opened from disk. The scripts only show and hide what is already
on the page, and (the form) keep and export what a rater enters.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from ..prompts import LETTERS
from .formatting import display_frame, interval, is_missing, percent, slug

FILTERS = (
    ("all", "All cases"),
    ("all-wrong", "Every model wrong"),
    ("all-right", "Every model right"),
    ("disagree", "Models disagree"),
)


def data_uri(data: bytes) -> str:
    """An image file's bytes as a data URL (JPEG as published by the release, PNG otherwise)."""
    kind = "jpeg" if data[:3] == b"\xff\xd8\xff" else "png"
    return f"data:image/{kind};base64,{base64.b64encode(data).decode('ascii')}"


@functools.cache
def environment() -> jinja2.Environment:
    """The pages' templates, autoescaped."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("spinebench_hf", "templates/pages"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)  # fmt: skip
    env.filters["data_uri"] = data_uri
    env.filters["lettered"] = lambda options: list(zip(LETTERS, options))
    env.filters["anchor"] = lambda title: slug(str(title)).lower()
    return env


def asset(name: str) -> Markup:
    """A style sheet or script of the templates folder, inlined as it is (our own, trusted)."""
    loader = environment().loader
    assert loader is not None
    return Markup(loader.get_source(environment(), name)[0])


def render(template: str, title: str, script: str, **context) -> str:
    """A page from `template`, with the shared style and the named script inlined."""
    return environment().get_template(template).render(title=title, style=asset("pages.css"), script=asset(script),
                                                       **context)  # fmt: skip


def image_tag(data: bytes | None, alt: str, note: str | None = None) -> Markup:
    """An embedded image, or a note saying why it is not shown (`note`, or: not available)."""
    return environment().get_template("macros.html").module.image(data, alt, note)  # type: ignore[attr-defined]


def png_tag(path: Path | None) -> Markup:
    """A plot written beside the report, embedded; nothing when it was not written."""
    return image_tag(path.read_bytes(), path.stem) if path and path.exists() else Markup("")


def frame_table(frame: pd.DataFrame) -> Markup:
    """A results table as HTML, its cells as `formatting.display_frame` shows them; pandas escapes every cell.
    Wide tables scroll within their own box."""
    html = display_frame(frame).to_html(index=False, escape=True, border=0)
    return Markup('<div class="wide">{}</div>').format(Markup(html))


WORST, MIDDLE, BEST = (244, 199, 195), (255, 255, 255), (183, 225, 193)


def heat(value: float, lowest: float, highest: float) -> str:
    """A cell's background on the matrix's own scale: its worst value light red, its best light green."""
    share = 0.5 if highest <= lowest else (value - lowest) / (highest - lowest)
    start, end, t = (WORST, MIDDLE, share * 2) if share < 0.5 else (MIDDLE, BEST, share * 2 - 1)
    red, green, blue = (round(a + (b - a) * t) for a, b in zip(start, end))
    return f"background:rgb({red},{green},{blue})"


def matrix_table(matrix) -> Markup:
    """A `tables.Matrix` as an HTML heat map: `by` down, the models across; each cell the score, its interval and
    n, shaded from the matrix's worst to its best cell."""
    values = [cell[0] for _, row in matrix.rows for cell in row if cell is not None and not is_missing(cell[0])]
    lowest, highest = (min(values), max(values)) if values else (0.0, 1.0)
    rows = [
        (label, [None if c is None else {"text": percent(c[0]), "interval": interval(c[1], c[2]), "n": c[3],
                 "style": "" if is_missing(c[0]) else heat(c[0], lowest, highest)} for c in row])
        for label, row in matrix.rows
    ]  # fmt: skip
    return environment().get_template("macros.html").module.matrix(matrix.by, matrix.models, rows)  # type: ignore[attr-defined]


def paragraph(text: str) -> Markup:
    """A paragraph of plain text, escaped."""
    return Markup("<p>{}</p>").format(escape(text))


# --- the results report -------------------------------------------------------------------------------------
def case_outcome(rows: pd.DataFrame) -> str:
    """all-right, all-wrong or disagree: what the gallery's filters select by."""
    right = rows.acc.fillna(0) == 1
    return "all-right" if right.all() else "all-wrong" if not right.any() else "disagree"


def gallery_case(rows: pd.DataFrame, image: bytes | None, note: str | None = None) -> dict:
    """One question of the gallery, every model's reply to it; `note` says why its image is not shown."""
    first = rows.iloc[0]
    replies = [{"model": row.model, "extracted": ", ".join(row.extracted), "stage": row.stage, "right": row.acc == 1,
                "text": row.reply} for row in rows.itertuples()]  # fmt: skip
    chosen: dict[str, list[str]] = {}
    for row in rows.itertuples():
        for letter in row.extracted:
            chosen.setdefault(letter, []).append(str(row.model))
    return {"outcome": case_outcome(rows), "task": first.task, "id": first.id, "image": image, "note": note,
            "question": first.question, "options": list(first.options), "answer": list(first.answer),
            "chosen": {letter: ", ".join(names) for letter, names in chosen.items()}, "replies": replies}  # fmt: skip


def report_page(
    sections: list[tuple[str, Markup]],
    cases: pd.DataFrame,
    images: dict[str, bytes],
    withheld: Mapping[str, str] | None = None,
    banner: str | None = None,
) -> str:
    """The report: `sections` are (title, HTML) in order; `cases` the scored rows of the gallery's questions, every
    model; `images` their images by question id; `withheld` why an image is not shown, by question id."""
    withheld = withheld or {}
    gallery = [gallery_case(rows, None if question in withheld else images.get(question), withheld.get(question))
               for question, rows in cases.groupby("id", sort=False)]  # fmt: skip
    return render("report.html", "SpineBench results", "gallery.js", sections=sections, filters=FILTERS,
                  cases=gallery, banner=banner)  # fmt: skip


# --- the rating form ----------------------------------------------------------------------------------------
def rating_page(
    sample: pd.DataFrame, rubric: list, columns: list[str], sheet_id: str, banner: str | None = None
) -> str:
    """The blind form: image, question, options, correct answer and reply per sample; 1–5 per criterion; kept in
    the browser as entered; exported as the CSV `spinebench rating-summary` reads. No model name is on the page."""
    rows = sample[[c for c in columns if c in sample.columns]].to_dict("records")
    sheet = {"sheet": sheet_id, "criteria": [key for key, *_ in rubric], "columns": columns, "rows": rows}
    samples = [rating_case(row) for row in sample.to_dict("records")]
    return render("rating.html", "SpineBench reasoning rating", "rating.js", samples=samples, rubric=rubric,
                  sheet=sheet, banner=banner)  # fmt: skip


def rating_case(row: dict) -> dict:
    """One reply of the form, its options as the gallery lists them (the correct one and the model's choice marked
    the same way); a sheet written without the lists (`option_list`) shows its options text as it is."""
    listed = isinstance(row.get("option_list"), (list, tuple)) or hasattr(row.get("option_list"), "tolist")
    chosen = {letter: "the model" for letter in row.get("chosen_letters", []) or []} if listed else {}
    return row | {"listed": listed, "chosen": chosen}
