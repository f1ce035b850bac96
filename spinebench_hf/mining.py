"""Diagnosis distractors by image similarity (SPEC §4; seed appendix B).

Per disease, a library of up to 200 images is sampled with an RNG seeded by (seed, disease). Every image's
embedding is compared by cosine similarity with the whole library in one matrix product (in row chunks, so memory
stays flat), the image itself is excluded, and the similarities are averaged per disease. The distractors are the
most similar diseases that are neither the truth, nor Healthy, nor present on the image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .labels import DISEASES
from .seeding import rng_for

LIBRARY_SIZE = 200
_CHUNK_ROWS = 4096


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
    columns = library.columns()
    library_vectors = vectors[[row_of[image_id] for _, image_id in columns]].astype(np.float32)
    present = [DISEASES.index(d) for d in DISEASES if d in library.members]  # contiguous column groups
    sizes = np.array([len(library.members[DISEASES[i]]) for i in present], dtype=np.int64)
    group_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
    column_group = np.repeat(present, sizes)
    self_columns: dict[int, list[int]] = {}
    for column, (_, image_id) in enumerate(columns):
        self_columns.setdefault(row_of[image_id], []).append(column)

    sums = np.zeros((len(ids), len(DISEASES)))
    counts = np.zeros((len(ids), len(DISEASES)))
    counts[:, present] = sizes
    for start in range(0, len(ids) if present else 0, _CHUNK_ROWS):
        block = vectors[start : start + _CHUNK_ROWS].astype(np.float32) @ library_vectors.T
        sums[start : start + len(block), present] = np.add.reduceat(block.astype(np.float64), group_starts, axis=1)
        for row in range(start, start + len(block)):
            for column in self_columns.get(row, ()):
                sums[row, column_group[column]] -= block[row - start, column]
                counts[row, column_group[column]] -= 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def rank_distractors(similarity: np.ndarray, excluded: set[str], count: int, seed: int, item_id: str) -> list[tuple[str, float]]:
    """The `count` most similar diseases not in `excluded` (ties broken in canonical order). Diseases without a
    library follow, in an order drawn from (seed, item id), with similarity NaN — only small builds need them."""
    allowed = [(d, float(s)) for d, s in zip(DISEASES, similarity) if d not in excluded]
    ranked = sorted((pair for pair in allowed if not np.isnan(pair[1])), key=lambda p: -p[1])
    unranked = [pair for pair in allowed if np.isnan(pair[1])]
    order = rng_for(seed, "unranked-distractors", item_id).permutation(len(unranked))
    return (ranked + [unranked[i] for i in order])[:count]
