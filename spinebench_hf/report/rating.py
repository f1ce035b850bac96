"""The reasoning-evaluation kit (the paper's appendix D, Figure 11): clinicians rate sampled replies on four criteria.

`spinebench rating-sheet` samples N replies per model per task (seeded), hides the model names behind sample
numbers, and writes `rating_sheet.csv` and `rating_sheet.html`: one self-contained form (image, question, options,
correct answer, reply, the rubric's 1–5 choices with their anchors; kept in the browser as entered; downloads the
rater's CSV), plus `key.csv` (sample → model). `spinebench rating-summary`
reads the filled sheets back (one per rater): mean score per model, task and criterion, and Krippendorff's alpha
(ordinal) per criterion where several raters scored the same replies.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import krippendorff
import pandas as pd

from ..errors import SpineBenchError
from ..prompts import LETTERS, render_options
from ..seeding import rng_for
from .pages import rating_page

# Figure 11, word for word where the released appendix text has it; the fourth criterion's anchors are not in it.
RUBRIC = [
    (
        "clinical_rationality",
        "Clinical Rationality of Reasoning",
        "How does the reasoning process on the surface of the model perform in terms of clinical logic and validity? "
        "Is it consistent with established medical knowledge, diagnostic principles, and anatomical understandings "
        "related to spinal pathology?",
        {
            1: "The reasoning appears clinically illogical, ineffective, or fundamentally flawed",
            5: "The reasoning appears clinically reasonable, logical, and follows appropriate diagnostic pathways.",
        },
    ),
    (
        "visual_features",
        "Recognition and Application of Key Visual Features",
        "Does the reasoning process correctly identify and prioritize the most relevant visual evidence in the image "
        "(e.g., signal changes, structural deformities, displacement, specific anatomical landmarks) to support its "
        "conclusions?",
        {
            1: "Fails to identify key features or severely focuses on irrelevant details",
            3: "Identifies some relevant features but may misinterpret or omit key features.",
            5: "Clearly identifies and appropriately uses the most critical visual features for specific "
            "diagnostic/localization tasks.",
        },
    ),
    (
        "spatial_reasoning",
        "Quality of Spatial Reasoning (especially for localization tasks)",
        "How does the reasoning process demonstrate an understanding of three-dimensional spatial relationships "
        "within the spine (e.g., vertebral levels, anterior-posterior structures, intervertebral foramen space, "
        "spinal canal relationships) even when interpreting two-dimensional images?",
        {
            1: "Demonstrates poor or incorrect spatial understanding",
            3: "Shows basic spatial awareness but may make errors in precise localization or spatial relationships.",
            5: "Exhibits accurate and nuanced understanding of relevant spinal spatial anatomical structures",
        },
    ),
    ("pathological_understanding", "Depth of Pathological Understanding", "(the appendix text gives no anchors)", {}),
]
CRITERIA = [key for key, *_ in RUBRIC]
SHEET_COLUMNS = ["sample", "task", "question", "options", "correct", "reply", *CRITERIA, "rater", "comment"]


def rating_rows(details: pd.DataFrame) -> pd.DataFrame:
    """The protocol tasks' replies (the robustness variants are not rated), with options and answer as text."""
    rows = details[details.variant == ""]
    return pd.DataFrame(
        {
            "model": rows.model,
            "task": rows.task,
            "id": rows.id,
            "question": rows.question,
            "options": rows.options.map(render_options),
            "correct": [
                ", ".join(o[LETTERS.index(a)] for a in answer) for o, answer in zip(rows.options, rows.answer)
            ],
            "reply": rows.reply,
            # for the page only (not in the sheet): the options as a list, with the correct and chosen letters
            "option_list": rows.options.map(list),
            "answer_letters": rows.answer.map(list),
            "chosen_letters": rows.extracted.map(list) if "extracted" in rows else [[] for _ in range(len(rows))],
        }
    ).reset_index(drop=True)


def sample_replies(details: pd.DataFrame, per_task: int = 10, seed: int = 0) -> pd.DataFrame:
    """`per_task` replies per model and task, drawn by (seed, model, task); shuffled and numbered for blind rating."""
    picked = []
    for (model, task), group in details.groupby(["model", "task"], sort=True):
        rng = rng_for(seed, "rating", model, task)
        picked.append(group.iloc[sorted(rng.choice(len(group), size=min(per_task, len(group)), replace=False))])
    sample = pd.concat(picked, ignore_index=True)
    order = rng_for(seed, "rating-order").permutation(len(sample))
    sample = sample.iloc[order].reset_index(drop=True)
    return sample.assign(sample=[f"S{i + 1:03d}" for i in range(len(sample))])


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula (OWASP)


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet shows as text: one starting like a formula gets a leading apostrophe, as
    OWASP's advice on CSV injection says (the rating page's download does the same in JavaScript)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def write_sheet(sample: pd.DataFrame, output: str | Path, banner: str | None = None) -> dict[str, Path]:
    """Write the rating sheet, its page and the key.

    Args:
        sample: the sampled replies (`sample_replies`), with their images in an `image` column.
        output: the folder to write into.
        banner: what the data is when it is not real (synthetic), shown at the top of the page.

    Returns:
        The paths of `sheet` (rating_sheet.csv), `html` (rating_sheet.html) and `key` (key.csv, sample → model).
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    sheet = sample.assign(**{c: "" for c in CRITERIA}, rater="", comment="")[SHEET_COLUMNS].map(spreadsheet_safe)
    sheet.to_csv(output / "rating_sheet.csv", index=False)
    sample[["sample", "model", "task", "id"]].to_csv(output / "key.csv", index=False)
    sheet_id = hashlib.sha256("|".join(sample["sample"] + sample["id"]).encode()).hexdigest()[:12]
    (output / "rating_sheet.html").write_text(
        rating_page(sample, RUBRIC, SHEET_COLUMNS, sheet_id, banner), encoding="utf-8"
    )
    return {"sheet": output / "rating_sheet.csv", "html": output / "rating_sheet.html", "key": output / "key.csv"}


def read_sheets(paths: list[str | Path], key: str | Path) -> pd.DataFrame:
    """Long table (sample, model, task, rater, criterion, score) from filled sheets; bad cells are clear errors."""
    models = pd.read_csv(key, dtype=str).set_index("sample")
    long = []
    for path in map(Path, paths):
        sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in ("sample", "rater", *CRITERIA) if c not in sheet.columns]
        if missing:
            raise SpineBenchError(f"{path}: missing columns {missing}")
        for number, row in enumerate(sheet.itertuples(index=False), start=2):
            for criterion in CRITERIA:
                value = getattr(row, criterion).strip()
                if not value:
                    continue
                if value not in {"1", "2", "3", "4", "5"}:
                    raise SpineBenchError(f"{path}, line {number}, {criterion}: {value!r} is not a score from 1 to 5")
                if row.sample not in models.index:
                    raise SpineBenchError(f"{path}, line {number}: sample {row.sample!r} is not in {key}")
                long.append(
                    {
                        "sample": row.sample,
                        "model": models.loc[row.sample, "model"],
                        "task": models.loc[row.sample, "task"],
                        "rater": row.rater or path.stem,
                        "criterion": criterion,
                        "score": int(value),
                    }
                )
    return pd.DataFrame(long)


def summarize(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mean score per model × task × criterion, Krippendorff's ordinal alpha per criterion over all samples)."""
    means = scores.groupby(["model", "task", "criterion"]).score.agg(["mean", "count"]).reset_index()
    agreement = []
    for criterion, group in scores.groupby("criterion"):
        matrix = group.pivot_table(index="rater", columns="sample", values="score")
        if len(matrix) >= 2 and matrix.notna().sum(axis=0).ge(2).any():
            alpha = krippendorff.alpha(reliability_data=matrix.to_numpy(dtype=float), level_of_measurement="ordinal")
            agreement.append({"criterion": criterion, "raters": len(matrix), "alpha": float(alpha)})
    return means, pd.DataFrame(agreement, columns=["criterion", "raters", "alpha"])
