"""Diagnosis distractors by image similarity (docs/building.md; the paper's appendix B).

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

from ..labels import DISEASES
from ..seeding import rng_for

LIBRARY_SIZE = 200
_CHUNK_ROWS = 8192


@dataclass(frozen=True)
class Library:
    """Each disease's sampled images: an image's similarity to a disease is its mean similarity to them."""

    members: dict[str, tuple[str, ...]]  # disease -> sampled image ids (sorted)

    def columns(self) -> list[tuple[str, str]]:
        """(disease, image id) for every library slot, diseases in canonical order."""
        return [(disease, image_id) for disease in DISEASES for image_id in self.members.get(disease, ())]


def sample_library(
    classes_by_image: Mapping[str, Sequence[str]],
    seed: int,
    size: int = LIBRARY_SIZE,
    classes: Sequence[str] = DISEASES,
) -> Library:
    """Up to `size` images carrying each class, drawn by an RNG seeded from (seed, class).

    Args:
        classes_by_image: image id -> the classes (diseases) it carries.
        seed: the build's seed.
        size: the most images sampled for a class.
        classes: the classes to sample images for.

    Returns:
        The library: class -> its sampled image ids, sorted; a class that no image carries has no entry.
    """
    members = {}
    for name in classes:
        candidates = sorted(image_id for image_id, present in classes_by_image.items() if name in present)
        if candidates:
            rng = rng_for(seed, "library", name)
            picked = rng.choice(len(candidates), size=min(size, len(candidates)), replace=False)
            members[name] = tuple(sorted(candidates[i] for i in picked))
    return Library(members)


def library_similarity(
    ids: Sequence[str],
    vectors: np.ndarray,
    library: Library,
    vector_of: Mapping[str, np.ndarray],
    classes: Sequence[str] = DISEASES,
) -> np.ndarray:
    """(N, len(classes)) mean cosine similarity of each image to each class's library, the image itself excluded;
    NaN where a class has no library (or only the image itself). Rows of `vectors` (aligned with `ids`) and of
    `vector_of` (library image id -> vector) are L2-normalised.

    Args:
        ids: the images' ids, one per row of `vectors`.
        vectors: (N, D) embeddings of the images.
        library: the classes' sampled images.
        vector_of: library image id -> its embedding.
        classes: the classes, in column order.

    Returns:
        An (N, len(classes)) float64 array.

    Raises:
        KeyError: a library image has no vector in `vector_of`.
    """
    row_of = {image_id: i for i, image_id in enumerate(ids)}
    library_sums = np.zeros((len(classes), vectors.shape[1]))
    counts = np.zeros((len(ids), len(classes)))
    for column, name in enumerate(classes):
        members = library.members.get(name, ())
        if members:
            library_sums[column] = np.stack([vector_of[m] for m in members]).astype(np.float64).sum(axis=0)
        counts[:, column] = len(members)
    sums = np.empty((len(ids), len(classes)))
    for start in range(0, len(ids), _CHUNK_ROWS):  # float64 copies of a chunk only: memory stays flat
        sums[start : start + _CHUNK_ROWS] = vectors[start : start + _CHUNK_ROWS].astype(np.float64) @ library_sums.T
    for column, name in enumerate(classes):
        for member in library.members.get(name, ()):
            row = row_of.get(member)
            if row is not None:
                sums[row, column] -= vectors[row].astype(np.float64) @ vector_of[member].astype(np.float64)
                counts[row, column] -= 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def disease_similarity(ids: Sequence[str], vectors: np.ndarray, library: Library) -> np.ndarray:
    """(N, 11) similarity of each image to each disease's library, where the library images are among `ids`.

    Args:
        ids: the images' ids, one per row of `vectors`.
        vectors: (N, D) L2-normalised embeddings of the images, library images included.
        library: the diseases' sampled images (`sample_library` over these images).

    Returns:
        An (N, 11) float64 array, a column per disease in canonical order; NaN where a disease has no library (or
        only the image itself).

    Raises:
        KeyError: a library image is not among `ids`.
    """
    return library_similarity(ids, vectors, library, dict(zip(ids, vectors)))


def rank_distractors(
    similarity: np.ndarray, excluded: set[str], count: int, seed: int, item_id: str
) -> list[tuple[str, float]]:
    """The `count` most similar diseases not in `excluded` (ties broken in canonical order). Diseases without a
    library follow, in an order drawn from (seed, item id), with similarity NaN — only small builds need them.

    Args:
        similarity: one image's similarity to each disease, in canonical order (a row of `disease_similarity`).
        excluded: diseases that may not be distractors (the truth, Healthy, the image's other diseases).
        count: how many distractors.
        seed: the build's seed.
        item_id: the question's id, which seeds the order of the diseases without a library.

    Returns:
        Up to `count` (disease, similarity) pairs, the ranked ones most similar first; fewer only when fewer
        diseases are allowed.
    """
    allowed = [(d, s) for d, s in zip(DISEASES, np.asarray(similarity, dtype=float).tolist()) if d not in excluded]
    ranked = sorted((pair for pair in allowed if not math.isnan(pair[1])), key=lambda p: -p[1])
    if len(ranked) >= count:
        return ranked[:count]
    unranked = [pair for pair in allowed if math.isnan(pair[1])]
    order = rng_for(seed, "unranked-distractors", item_id).permutation(len(unranked))
    return (ranked + [unranked[i] for i in order])[:count]
