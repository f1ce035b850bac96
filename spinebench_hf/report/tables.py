"""`spinebench report`: the paper's table and what else a reader needs to conclude something from a run.

Input: the scored questions of `details.scored_questions` (one row per model × question). Output: the paper-format
table (Markdown and CSV, with the paper's random row), breakdowns per disease / source / modality / level with 95 %
CIs clustered by study, the diagnosis confusion matrix (Healthy and "invalid" included), format-compliance and
judge-rescue rates, paired model comparisons, and plots.
"""

from __future__ import annotations

import functools
import html
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..labels import CLASS_NAMES, LEVELS, canonical_options
from ..metrics import overall
from ..prompts import LETTERS
from ..schema import FAILED_STAGE, SUB_SIZES
from ..seeding import rng_for
from .formatting import display_frame, percent, slug, with_interval
from .statistics import Estimate, clustered_mean, paired_comparison

INVALID, MULTIPLE = "invalid", "several letters"
PAPER_COLUMNS = ["Model", "SDD Acc", "SLL Acc", "SLL Pre", "SLL Recall", "Overall Acc"]
# The paper's main results on SpineBench-Sub, as published (docs/paper.md §7.1; final version, 2025-06-04)
PAPER_RESULTS = [
    ["Gemini-2.5-pro-exp-03-25", "32.37", "9.35", "48.61", "63.55", "20.86"],
    ["GPT-4o-2024-11-20", "23.64", "9.69", "46.66", "38.16", "16.67"],
    ["Claude-3-5-sonnet-20241022", "23.58", "12.64", "48.86", "31.56", "18.11"],
    ["Llama-3.2-11b-vision-instruct", "19.24", "10.00", "44.65", "21.64", "14.62"],
    ["Grok 3", "21.45", "10.02", "46.78", "33.40", "15.74"],
    ["Doubao-1.5-vision-pro-32k", "17.46", "6.14", "44.16", "49.33", "11.80"],
    ["DeepSeek-VL2", "23.25", "11.39", "45.89", "27.09", "17.32"],
    ["Qwen2.5-VL-7B-Instruct", "18.26", "12.14", "46.72", "29.73", "15.20"],
    ["LLaVA-Med v1.5", "21.32", "9.25", "47.92", "24.33", "15.29"],
    ["HuatuoGPT-Vision-7B", "22.28", "8.80", "40.00", "23.82", "15.84"],
    ["Med-Flamingo", "19.49", "4.08", "44.60", "8.51", "11.79"],
    ["MedGemma-4B", "12.15", "5.30", "46.94", "39.14", "8.73"],
]
RELEASE_ID_PREFIX = "release/"  # the ids of `spinebench import-release`


def task_mean(scored: pd.DataFrame, model: str, task: str, score: str) -> float | None:
    """A model's mean `score` on a task over its answered questions (failed requests left out); None if none."""
    rows = scored[(scored.model == model) & (scored.task == task) & (scored.stage != FAILED_STAGE)]
    return float(rows[score].mean()) if len(rows) else None


def paper_rows(scored: pd.DataFrame) -> list[list]:
    """[model, SDD acc, SLL acc, SLL precision, SLL recall, Overall] as fractions (None where not run)."""
    rows = []
    for model in sorted(scored.model.unique()):
        cells = [
            task_mean(scored, model, "diagnosis", "acc"),
            task_mean(scored, model, "localization", "acc"),
            task_mean(scored, model, "localization", "precision"),
            task_mean(scored, model, "localization", "recall"),
        ]
        both = cells[0] is not None and cells[1] is not None
        failed = int((scored[scored.model == model].stage == FAILED_STAGE).sum())
        label = f"{model} (incomplete: {failed} failed)" if failed else model  # never ranked as if complete
        rows.append([label, *cells, overall(cells[0], cells[1]) if both else None])
    return rows


def md_text(value: object) -> str:
    """Text for Markdown, as the HTML page escapes it: markup shown as text (`<`, `>`, `&`), table cells kept apart
    (`|`), one line, and no emphasis, code or link made from a model's name."""
    text = html.escape(" ".join(str(value).split()), quote=False)
    return re.sub(r"([|\\`*\[\]])", r"\\\1", text)  # GitHub's Markdown makes no emphasis of an_underscore


def markdown(columns: list[str], rows: list[list[str]]) -> str:
    """A Markdown table of the cells, each escaped by `md_text`."""
    lines = ["| " + " | ".join(map(md_text, columns)) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join(map(md_text, row)) + " |" for row in rows])


def paper_table(scored: pd.DataFrame, banner: str | None = None) -> str:
    """The paper-format table in Markdown (percent), one row per model, then the paper's random row; `banner`
    (what the data is when it is not real) on the line above it."""
    rows = [[row[0], *map(percent, row[1:])] for row in paper_rows(scored)]
    table = markdown(PAPER_COLUMNS, rows + [["Random (paper)", percent(CHANCE["diagnosis"]), "-", "-", "-", "-"]])
    return f"{banner}\n\n{table}" if banner else table


def beside_rows(scored: pd.DataFrame, banner: str | None = None) -> tuple[str, list[list[str]]]:
    """The user's rows and the paper's, and a note saying whether they were measured on the same questions, and on
    how many against the paper's Sub; `banner`: the data is synthetic (never "measured on the source archives")."""
    ours = [[f"{row[0]} (this run)", *map(percent, row[1:])] for row in paper_rows(scored)]
    paper = [[f"{row[0]} (paper)", *(percent(float(value) / 100) for value in row[1:])] for row in PAPER_RESULTS]
    on_release = bool(len(scored)) and scored.id.str.startswith(RELEASE_ID_PREFIX).all()
    note = (
        f"{banner} Not the benchmark's questions: the rows do not compare."
        if banner
        else "Measured on the authors' release (`spinebench import-release`): the paper's questions, so the rows "
        "compare."
        if on_release
        else "Measured on a local build from the source archives: other questions, "
        "options and Sub split than the paper's, so the rows do not compare directly; import the authors' "
        "release for that."
    )
    return f"{note} {question_counts(scored)}", ours + paper


def question_counts(scored: pd.DataFrame) -> str:
    """How many questions of each task this run asked, beside the paper's Sub."""
    asked = {task: scored[scored.task == task].id.nunique() for task in SUB_SIZES}
    shown = " + ".join(f"{asked[task]:,} {task}" for task in SUB_SIZES)
    paper = " + ".join(f"{SUB_SIZES[task]:,} {task}" for task in SUB_SIZES)
    same = "" if all(asked[task] == SUB_SIZES[task] for task in SUB_SIZES) else " (not the same number of questions)"
    return f"Questions asked: {shown}; the paper's Sub: {paper}{same}."


def cluster_unit(scored: pd.DataFrame) -> str:
    """What the intervals are clustered by: studies, or images where the data has no studies (an imported release)."""
    without = (scored.study_id == scored.image_id) if len(scored) else pd.Series([False])
    return "image" if without.all() else "study" if not without.any() else "study (image where there is none)"


def beside_the_paper(scored: pd.DataFrame, banner: str | None = None) -> str:
    """The note of `beside_rows`, then this run's rows and the paper's published ones as a Markdown table."""
    note, rows = beside_rows(scored, banner)
    return note + "\n\n" + markdown(PAPER_COLUMNS, rows)


def beside_the_paper_html(scored: pd.DataFrame, banner: str | None = None) -> str:
    """`beside_the_paper` as HTML: the note as a paragraph, then the table."""
    from .pages import frame_table, paragraph

    note, rows = beside_rows(scored, banner)
    return paragraph(note) + frame_table(pd.DataFrame(rows, columns=PAPER_COLUMNS))


def breakdown(scored: pd.DataFrame, by: str, score: str = "acc") -> pd.DataFrame:
    """Mean score per model, task and `by` value, with a study-clustered 95 % CI."""
    rows = []
    for (model, task, value), group in scored.groupby(["model", "task", by], sort=True):
        estimate = clustered_mean(group[score].to_numpy(), group.study_id.to_numpy())
        rows.append(
            {
                "model": model,
                "task": task,
                by: value,
                "n": estimate.n,
                score: estimate.mean,
                "ci_low": estimate.low,
                "ci_high": estimate.high,
            }
        )
    return pd.DataFrame(rows, columns=["model", "task", by, "n", score, "ci_low", "ci_high"])


CHANCE = {"diagnosis": 1 / 5, "localization": 1 / 31}  # guessing: one of 5 options; one of the 31 non-empty sets
TASK_TITLES = {"diagnosis": "Diagnosis", "localization": "Localization"}


def overall_estimate(rows: pd.DataFrame) -> Estimate | None:
    """The paper's Overall of `rows`: accuracy with each task present weighing one half (one task: its accuracy),
    with its interval clustered by study; None for no rows."""
    if rows.empty:
        return None
    per_task = rows.groupby("task")["acc"].transform("size")
    return clustered_mean(rows["acc"].to_numpy(), rows.study_id.to_numpy(), weights=(1.0 / per_task).to_numpy())


def estimate_text(estimate: Estimate | None) -> str:
    """ "43.8 [31.2, 57.0]", or "-" without an estimate."""
    return with_interval(None, None, None) if estimate is None else with_interval(estimate.mean, estimate.low,
                                                                                  estimate.high)  # fmt: skip


def ranking(protocol: pd.DataFrame) -> pd.DataFrame:
    """The models ranked by Overall ("1. name"; answered questions only, an incomplete model marked), then chance."""
    rows = []
    answered = protocol[protocol.stage != FAILED_STAGE]
    for model, group in answered.groupby("model", sort=True):
        failed = int((protocol[protocol.model == model].stage == FAILED_STAGE).sum())
        overall_value = overall_estimate(group)
        estimates = [overall_value] + [overall_estimate(group[group.task == task]) for task in TASK_TITLES]
        rows.append({"model": f"{model} (incomplete: {failed} failed)" if failed else model,
                     "sort": -overall_value.mean if overall_value else math.inf,
                     **dict(zip(RANKING_COLUMNS, map(estimate_text, estimates)))})  # fmt: skip
    ranked = sorted(rows, key=lambda row: (row["sort"], row["model"]))
    table = [{**row, "model": f"{i}. {row['model']}"} for i, row in enumerate(ranked, 1)]
    chance = {"diagnosis": CHANCE["diagnosis"], "localization": CHANCE["localization"]}
    table.append({"model": "Chance (guessing)", "Overall % [95 % CI]": percent(overall(*chance.values())),
                  **{f"{TASK_TITLES[t]} % [95 % CI]": percent(v) for t, v in chance.items()}})  # fmt: skip
    return pd.DataFrame(table, columns=["model", *RANKING_COLUMNS])


RANKING_COLUMNS = ["Overall % [95 % CI]", "Diagnosis % [95 % CI]", "Localization % [95 % CI]"]


def data_description(protocol: pd.DataFrame, fingerprints: list[str], banner: str | None = None) -> str:
    """What the numbers were measured on: synthetic data, the authors' release or a local build; the dataset
    fingerprints the runs recorded; the counts of questions, studies and models."""
    on_release = bool(len(protocol)) and protocol.id.str.startswith(RELEASE_ID_PREFIX).all()
    kind = (
        f"{banner} "
        if banner
        else "The authors' release (`spinebench import-release`). "
        if on_release
        else "A local build from the source archives. "
    )
    asked = " + ".join(f"{protocol[protocol.task == t].id.nunique():,} {t}" for t in TASK_TITLES)
    studies = protocol.study_id.nunique()
    prints = f" Dataset fingerprint: {', '.join(f[:16] for f in fingerprints)}." if fingerprints else ""
    return (f"{kind}{asked} questions in {studies:,} clusters (by {cluster_unit(protocol)}), "
            f"{protocol.model.nunique()} model(s).{prints}")  # fmt: skip


@dataclass(frozen=True)
class Matrix:
    """A breakdown as a matrix: one row per `by` value, one column per model; each cell (score, low, high, n) or
    None where the model has no such question."""

    title: str
    by: str
    models: list[str]
    rows: list[tuple[str, list[tuple[float, float | None, float | None, int] | None]]]


def to_matrix(frame: pd.DataFrame, by: str, title: str, score: str = "acc", count: str = "n") -> Matrix:
    """A long breakdown of one task (model, `by`, score, ci_low/ci_high if any, count) as a `Matrix`."""
    models = sorted(frame.model.unique())
    cells: dict[str, dict[str, tuple]] = {}
    for row in frame.to_dict("records"):
        cells.setdefault(str(row[by]), {})[row["model"]] = (row[score], row.get("ci_low"), row.get("ci_high"),
                                                             int(row[count]))  # fmt: skip
    order = [level for level in LEVELS if level in cells] if by == "level" else sorted(cells)
    return Matrix(title, by, models, [(value, [cells[value].get(m) for m in models]) for value in order])


def matrices(scored: pd.DataFrame) -> list[Matrix]:
    """Accuracy by disease, source and modality per task, and localization recall and precision by level."""
    found = []
    for by in ("disease", "source", "modality"):
        long = breakdown(scored, by)
        for task in [t for t in TASK_TITLES if t in set(long.task)]:
            found.append(to_matrix(long[long.task == task], by, f"{TASK_TITLES[task]} accuracy by {by}"))
    levels = level_breakdown(scored)
    for score, count in (("recall", "gold"), ("precision", "predicted")):
        if len(levels):
            shown = levels[levels[count] > 0]
            found.append(to_matrix(shown, "level", f"Localization {score} by level", score=score, count=count))
    return found


def matrix_cell(cell: tuple | None) -> str:
    """A matrix cell as text: "43.8 [31.2, 57.0] (n 12)", "-" where there is none."""
    if cell is None:
        return "-"
    value, low, high, n = cell
    return f"{with_interval(value, low, high)} (n {n})"


def matrix_markdown(matrix: Matrix) -> str:
    """A matrix as a Markdown table: `by` down, the models across."""
    return markdown([matrix.by, *matrix.models], [[label, *map(matrix_cell, row)] for label, row in matrix.rows])


def letters_to_texts(options: list[str], letters: list[str], task: str | None = None) -> list[str]:
    """The options the letters name; with `task`, as canonical labels (an imported release spells them its way)."""
    texts = canonical_options(options, task) if task else list(options)
    return [texts[LETTERS.index(letter)] for letter in letters if LETTERS.index(letter) < len(texts)]


def level_breakdown(scored: pd.DataFrame) -> pd.DataFrame:
    """Per localization level: how often a gold level is found (recall) and a predicted level is right (precision)."""
    rows = []
    for model, group in scored[scored.task == "localization"].groupby("model", sort=True):
        gold = [set(letters_to_texts(r.options, r.answer, "localization")) for r in group.itertuples()]
        predicted = [set(letters_to_texts(r.options, r.extracted, "localization")) for r in group.itertuples()]
        for level in LEVELS:
            in_gold = [level in p for g, p in zip(gold, predicted) if level in g]
            in_prediction = [level in g for g, p in zip(gold, predicted) if level in p]
            rows.append(
                {
                    "model": model,
                    "level": level,
                    "gold": len(in_gold),
                    "predicted": len(in_prediction),
                    "recall": sum(in_gold) / len(in_gold) if in_gold else math.nan,
                    "precision": sum(in_prediction) / len(in_prediction) if in_prediction else math.nan,
                }
            )
    return pd.DataFrame(rows)


def predicted_class(row) -> str:
    """The canonical class a diagnosis row's one letter names; `invalid` for none, `several letters` for more."""
    if not row.extracted:
        return INVALID
    if len(row.extracted) > 1:
        return MULTIPLE
    return letters_to_texts(row.options, row.extracted, "diagnosis")[0]


def confusion(scored: pd.DataFrame, model: str) -> pd.DataFrame:
    """Diagnosis: gold class (rows) × predicted option (columns), counts; Healthy, invalid and several letters kept."""
    rows = scored[(scored.model == model) & (scored.task == "diagnosis")]
    predicted = [predicted_class(row) for row in rows.itertuples()]
    table = pd.crosstab(pd.Series(rows.disease.to_numpy(), name="gold"), pd.Series(predicted, name="predicted"))
    order = [c for c in CLASS_NAMES if c in set(table.index) | set(table.columns)]
    return table.reindex(
        index=[c for c in order if c in table.index],
        columns=order + [c for c in (MULTIPLE, INVALID) if c in table.columns],
        fill_value=0,
    )


def rates(scored: pd.DataFrame) -> pd.DataFrame:
    """Per model and task: format compliance and judge rescue, rule-only next to judge-assisted accuracy, and the
    counts of `invalid` replies (no answer could be read) apart from `failed` requests (no reply at all)."""
    columns = [c for c in ("acc", "acc_rules", "format_compliance", "judge_rescue") if c in scored]
    answered = scored[scored.stage != FAILED_STAGE]
    means = answered.groupby(["model", "task"])[columns].mean()
    counts = (
        scored.assign(invalid=scored.stage == "none", failed=scored.stage == FAILED_STAGE)
        .groupby(["model", "task"])[["invalid", "failed"]]
        .sum()
    )
    return means.join(counts, how="outer").reset_index()


def comparisons(scored: pd.DataFrame) -> pd.DataFrame:
    """Every pair of models, per task, on the questions both answered: accuracy difference, CI, p-value."""
    rows = []
    for task in sorted(scored.task.unique()):
        scores = scored[scored.task == task].pivot_table(index=["id", "study_id"], columns="model", values="acc")
        for a, b in itertools.combinations(sorted(scores.columns), 2):
            both = scores[[a, b]].dropna()
            result = paired_comparison(both[a].to_numpy(), both[b].to_numpy(), both.index.get_level_values("study_id"))
            rows.append(
                {
                    "task": task,
                    "model_a": a,
                    "model_b": b,
                    "n": result.difference.n,
                    "difference": result.difference.mean,
                    "ci_low": result.difference.low,
                    "ci_high": result.difference.high,
                    "p_value": result.p_value,
                }
            )
    return pd.DataFrame(rows)


GALLERY_PER_TASK = 12


def gallery_ids(scored: pd.DataFrame, seed: int = 0) -> list[str]:
    """A seeded sample of the protocol questions of each task, the same for every model."""
    chosen = []
    for task in sorted(scored.task.unique()):
        ids = sorted(scored[scored.task == task].id.unique())
        order = rng_for(seed, "gallery", task).permutation(len(ids))[:GALLERY_PER_TASK]
        chosen += [ids[i] for i in sorted(order)]
    return chosen


def write_report(
    scored: pd.DataFrame,
    output: str | Path,
    images: Callable[[set[str]], dict] | None = None,
    withheld: Mapping[str, str] | None = None,
    *,
    fingerprints: Sequence[str] = (),
    banner: str | None = None,
) -> Path:
    """Every table as CSV, the plots as PNG, report.md tying them together, and report.html (the same with a
    summary, a table of contents and a case gallery; `images` gives the gallery's images by question id).

    Args:
        scored: the scored questions of `details.scored_questions` (one row per model × variant × question).
        output: the report folder (made if missing; files of the same names are overwritten).
        images: given a set of question ids, their image files by id (e.g. `details.case_images` over the same
            outputs); without it the gallery shows no images.
        withheld: question ids whose image must not be shown, with the reason the page gives instead
            (`licences.withheld_images`, for what is published); their images are not even asked for.
        fingerprints: the fingerprints of the datasets the runs were on (`runs.run_infos`), for the summary.
        banner: what the data is when it is not real (the demo's synthetic data): shown at the top of both files
            and in place of "a local build from the source archives".

    Returns:
        The path of report.md; report.html, table.md and the CSV and PNG files lie beside it.

    Raises:
        SpineBenchError: raised by `images` (as `details.case_images` raises it for unreadable outputs), passed on.
    """
    from .pages import frame_table, matrix_table, paragraph, png_tag, report_page
    from .plots import confusion_heatmap
    from .robustness import blind_scores, circular_scores, position_bias

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    everything = scored if "variant" in scored else scored.assign(variant="")
    answered = everything[everything.stage != FAILED_STAGE]
    protocol = everything[everything.variant == ""]  # the protocol tasks; the variants get their own sections
    paper = pd.DataFrame(paper_rows(protocol), columns=PAPER_COLUMNS)
    paper.to_csv(output / "table.csv", index=False)
    (output / "table.md").write_text(paper_table(protocol, banner) + "\n")
    about, ranked = data_description(protocol, list(fingerprints), banner), ranking(protocol)
    sections = ["# SpineBench results", *([f"**{md_text(banner)}**"] if banner else []), "## Summary", md_text(about),
                frame_markdown(ranked), "## Main table (SpineBench protocol, %)", paper_table(protocol),
                "## Beside the paper's published rows (%)", beside_the_paper(protocol, banner)]  # fmt: skip
    pages = [
        ("Summary: the models ranked by Overall (%)", paragraph(about) + frame_table(ranked)),
        ("Main table, beside the paper's published rows (%)", beside_the_paper_html(protocol, banner)),
    ]
    scored = protocol[protocol.stage != FAILED_STAGE]  # a failed request has no reply to break down
    for by in ("disease", "source", "modality"):  # the long form, for other tools
        breakdown(scored, by).to_csv(output / f"by_{by}.csv", index=False)
    level_breakdown(scored).to_csv(output / "by_level.csv", index=False)
    clustered = f"%, 95 % CI clustered by {cluster_unit(scored)}"
    for matrix in matrices(scored):
        title = f"{matrix.title} ({clustered if matrix.by != 'level' else '%'})"
        sections += [f"## {title}", matrix_markdown(matrix)]
        pages.append((title, matrix_table(matrix)))
    sections, pages = add_plots(scored, output, sections, pages, png_tag)
    for model in sorted(scored[scored.task == "diagnosis"].model.unique()):
        table = confusion(scored, model)
        table.to_csv(output / f"confusion_{slug(model)}.csv")
        image = confusion_heatmap(table, model, output / f"confusion_{slug(model)}.png")
        shown = confusion_shown(table)
        sections += [f"## Diagnosis confusion: {md_text(model)}", frame_markdown(shown), f"![confusion]({image.name})"]
        pages.append((f"Diagnosis confusion: {model}", frame_table(shown) + png_tag(image)))
    titled = [
        ("rates", "Format compliance, judge rescue, invalid replies and failed requests", rates(protocol)),
        ("comparisons", "Paired comparisons (A − B, same questions)", comparisons(scored)),
        ("position_bias", "Position bias (diagnosis: letters chosen vs correct)", position_bias(answered)),
        ("circular", "Circular evaluation (right only if every rotation is right)", circular_scores(answered)),
        ("blind", "Image-blind control (same questions, grey image)", blind_scores(answered)),
    ]
    for name, title, frame in titled:
        frame.to_csv(output / f"{name}.csv", index=False)
        sections += [f"## {title}", frame_markdown(frame)]
        pages.append((title, frame_table(frame) if len(frame) else paragraph("(none)")))
    cases = gallery_ids(scored)
    withheld = withheld or {}
    found = images(set(cases) - set(withheld)) if images else {}
    gallery = scored[scored.id.isin(cases)].set_index("id").loc[cases].reset_index()
    gallery = gallery.assign(**{column: "" for column in ("question", "reply") if column not in gallery})
    page = report_page(pages, gallery, found, withheld, banner=banner)
    (output / "report.html").write_text(page, encoding="utf-8")
    (output / "report.md").write_text("\n\n".join(sections) + "\n")
    return output / "report.md"


def add_plots(scored: pd.DataFrame, output: Path, sections: list, pages: list, png_tag) -> tuple[list, list]:
    """The per-disease and per-task accuracy plots, written beside the report and added to both files."""
    from .plots import accuracy_bars

    diagnosis = breakdown(scored[scored.task == "diagnosis"], "disease")
    if len(diagnosis):
        title, path = "Diagnosis accuracy per disease", output / "accuracy_by_disease.png"
        plot = accuracy_bars(diagnosis, "disease", title, path)
        sections.append(f"![per-disease accuracy]({plot.name})")
        pages.append(("Diagnosis accuracy per disease (plot)", png_tag(plot)))
    models = breakdown(scored.assign(all="all"), "all").drop(columns="all")
    if len(models):
        plot = accuracy_bars(models, "task", "Accuracy per task", output / "models.png")
        sections.append(f"![models]({plot.name})")
        pages.append(("Accuracy per task (plot)", png_tag(plot)))
    return sections, pages


def confusion_shown(table: pd.DataFrame) -> pd.DataFrame:
    """A confusion table as shown: its first heading says what the rows and columns are (no empty heading)."""
    shown = table.reset_index().rename(columns={"gold": "gold \\ predicted"})
    shown.columns.name = None
    return shown


def report_of_runs(paths: Sequence[str | Path], output: str | Path) -> tuple[pd.DataFrame, Path]:
    """`write_report` over harness outputs: their scored questions, the gallery's images read from them, the
    datasets' fingerprints in the summary, and the synthetic-data banner where a dataset was built from drawings.

    Returns:
        The scored questions and the path of report.md.

    Raises:
        SpineBenchError: as `details.scored_questions` for outputs it cannot read.
    """
    from .details import case_images, scored_questions
    from .runs import about_datasets

    scored = scored_questions(paths)
    fingerprints, banner = about_datasets(paths)
    images = functools.partial(case_images, paths)
    report = write_report(scored, output, images, fingerprints=fingerprints, banner=banner)
    return scored, report


def frame_markdown(frame: pd.DataFrame, scores: bool = True) -> str:
    """A data frame as a Markdown table; "(none)" when it is empty.

    Args:
        frame: the table.
        scores: its floats are fractions, shown as `formatting.display_frame` shows them (percentages, intervals in
            one cell); False for other numbers (ratings 1-5, alphas), shown with two decimals.
    """
    if frame.empty:
        return "(none)"
    if scores:
        shown = display_frame(frame)
        return markdown(list(shown.columns), shown.to_numpy().tolist())
    cells = [[f"{v:.2f}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)]
    return markdown([str(c) for c in frame.columns], cells)
