"""`spinebench compare-encoders`: the paper's Table 6 for any open_clip encoders, to check why SigLIP2 was chosen.

For each encoder, on a built dataset's diagnosis questions: every image's mean cosine similarity to every disease's
library (the build's own mining code), the 3 hard negatives it would mine, and how well it separates the diseases:
`own_top1` = share of images whose own disease's library is the most similar, `margin` = mean (own-library
similarity − mean similarity to the other libraries). An encoder that cannot tell diseases apart mines distractors
that are similar for no visual reason.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pandas as pd

from ..embedding.mining import disease_similarity, rank_distractors, sample_library
from ..labels import CLASS_NAMES, DISEASES, HEALTHY

ABBREVIATIONS = ["Dsn", "Fs", "Sas", "Ost", "Scs", "Spondy", "Strcv", "Vc", "Ck", "Cl", "Sigcv"]  # the paper's Table 5


def parse_encoder(spec: str) -> tuple[str, str]:
    """`NAME[:WEIGHTS]` → (open_clip name, weights), the weights "webli" when not given."""
    name, _, weights = spec.partition(":")
    return name, weights or "webli"


def encoder_table(spec: str, rows: datasets.Dataset, seed: int) -> tuple[pd.DataFrame, dict]:
    """Per image: similarity to each disease library and the mined negatives; plus the separation summary."""
    from ..embedding.encoder import ImageEncoder

    name, weights = parse_encoder(spec)
    encoder = ImageEncoder(name, weights, seed=seed)
    vectors = encoder.encode(list(rows["image"]))
    diseases = [tuple(CLASS_NAMES[d] for d in present) for present in rows["diseases"]]
    truth = [CLASS_NAMES[d] for d in rows["disease"]]
    ids = list(rows["image_id"])
    similarity = disease_similarity(ids, vectors, sample_library(dict(zip(ids, diseases)), seed))
    table = pd.DataFrame(similarity, columns=ABBREVIATIONS).round(3)
    negatives = [
        ", ".join(d for d, _ in rank_distractors(row, set(present) | {t, HEALTHY}, 3, seed, i))
        for row, present, t, i in zip(similarity, diseases, truth, ids)
    ]
    table.insert(0, "encoder", spec)
    table.insert(1, "image_id", ids)
    table.insert(2, "correct", truth)
    table["hard_negatives"] = negatives
    return table, separation(spec, similarity, truth)


def separation(spec: str, similarity: np.ndarray, truth: list[str]) -> dict:
    """`own_top1` and `margin` (module docstring) over the images whose disease has a library (never Healthy)."""
    own, top1, margins = [], 0, []
    for row, disease in zip(similarity, truth):
        if disease not in DISEASES or np.isnan(row[DISEASES.index(disease)]):
            continue  # Healthy has no library; a lone image has none either
        index = DISEASES.index(disease)
        others = np.delete(row, index)
        own.append(row[index])
        top1 += int(row[index] >= np.nanmax(row))
        margins.append(row[index] - np.nanmean(others))
    count = len(own)
    return {
        "encoder": spec,
        "images": count,
        "own_top1": top1 / count if count else float("nan"),
        "margin": float(np.mean(margins)) if count else float("nan"),
    }


def compare_encoders(
    data: str | Path, specs: list[str], output: str | Path, *, limit: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Compare encoders on the first `limit` (default all) full-split diagnosis questions; writes similarity.csv and
    separation.csv to `output` and returns the separation table."""
    rows = datasets.load_dataset(str(data), "diagnosis", split="full")
    if limit:
        rows = rows.select(range(min(limit, len(rows))))
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    tables, summaries = zip(*(encoder_table(spec, rows, seed) for spec in specs))
    pd.concat(tables).to_csv(output / "similarity.csv", index=False)
    summary = pd.DataFrame(summaries)
    summary.to_csv(output / "separation.csv", index=False)
    return summary
