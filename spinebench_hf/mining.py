"""Diagnosis distractors by image similarity (SPEC §4; seed appendix B).

Per disease, a library of up to 200 images is sampled with an RNG seeded by (seed, disease). An image's similarity
to a disease is its mean cosine similarity to that disease's library, the image itself excluded. The distractors
are the most similar diseases that are neither the truth, nor Healthy, nor present on the image.

The mean of the dot products with a library is the dot product with the library's mean, so one (N, D) x (D, 11)
product in float64 gives every image's similarities: about 200x less work than comparing with each library image,
and more exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .labels import DISEASES
from .seeding import rng_for

LIBRARY_SIZE = 200
_CHUNK_ROWS = 8192


@dataclass(frozen=True)
class Library:
    members: dict[str, tuple[str, ...]]  # disease -> sampled image ids (sorted)

    def columns(self) -> list[tuple[str, str]]:
        """(disease, image id) for every library slot, diseases in canonical order."""
        return [(disease, image_id) for disease in DISEASES for image_id in self.members.get(disease, ())]


def sample_library(diseases_by_image: Mapping[str, Sequence[str]], seed: int, size: int = LIBRARY_SIZE) -> Library:
    """Up to `size` images carrying each disease, drawn by an RNG seeded from (seed, disease)."""
    members = {}
    for disease in DISEASES:
        candidates = sorted(image_id for image_id, present in diseases_by_image.items() if disease in present)
        if candidates:
            rng = rng_for(seed, "library", disease)
            picked = rng.choice(len(candidates), size=min(size, len(candidates)), replace=False)
            members[disease] = tuple(sorted(candidates[i] for i in picked))
    return Library(members)


def disease_similarity(ids: Sequence[str], vectors: np.ndarray, library: Library) -> np.ndarray:
    """(N, 11) mean cosine similarity of each image to each disease's library, itself excluded; NaN where a
    disease has no library (or only the image itself). `vectors` rows are L2-normalised, aligned with `ids`."""
    row_of = {image_id: i for i, image_id in enumerate(ids)}
    library_sums = np.zeros((len(DISEASES), vectors.shape[1]))
    counts = np.zeros((len(ids), len(DISEASES)))
    for column, disease in enumerate(DISEASES):
        rows = [row_of[image_id] for image_id in library.members.get(disease, ())]
        library_sums[column] = vectors[rows].astype(np.float64).sum(axis=0)
        counts[:, column] = len(rows)
    sums = np.empty((len(ids), len(DISEASES)))
    for start in range(0, len(ids), _CHUNK_ROWS):  # float64 copies of a chunk only: memory stays flat
        sums[start : start + _CHUNK_ROWS] = vectors[start : start + _CHUNK_ROWS].astype(np.float64) @ library_sums.T
    for column, disease in enumerate(DISEASES):
        for image_id in library.members.get(disease, ()):
            own = vectors[row_of[image_id]].astype(np.float64)
            sums[row_of[image_id], column] -= own @ own
            counts[row_of[image_id], column] -= 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def rank_distractors(similarity: np.ndarray, excluded: set[str], count: int, seed: int, item_id: str) -> list[tuple[str, float]]:
    """The `count` most similar diseases not in `excluded` (ties broken in canonical order). Diseases without a
    library follow, in an order drawn from (seed, item id), with similarity NaN — only small builds need them."""
    allowed = [(d, s) for d, s in zip(DISEASES, np.asarray(similarity, dtype=float).tolist()) if d not in excluded]
    ranked = sorted((pair for pair in allowed if not math.isnan(pair[1])), key=lambda p: -p[1])
    if len(ranked) >= count:
        return ranked[:count]
    unranked = [pair for pair in allowed if math.isnan(pair[1])]
    order = rng_for(seed, "unranked-distractors", item_id).permutation(len(unranked))
    return (ranked + [unranked[i] for i in order])[:count]
