"""The `train` split: the questions of `full` that a model fine-tuned on them could not have seen in `sub`.

A question is in `train` when its image shares nothing with any image of `sub` (of either config): not the image
itself, not its content (sha256 of the image bytes as stored: the same picture published twice counts once), not its
patient, not its study; and, for a build, no SigLIP2 near-duplicate of a `sub` image (cosine >= 0.98 between the
embeddings the build already computed for its distractors). Empty patient and study ids (an imported release has
none) match nothing. The evaluation tasks never use `train`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

NEAR_DUPLICATE_COSINE = 0.98
# why a question of `full` is not in `train`, in the order the rules are checked
IN_SUB, SAME_IMAGE, SAME_PATIENT, SAME_STUDY, NEAR_DUPLICATE = (
    "in-sub",
    "same-image-as-sub",
    "same-patient-as-sub",
    "same-study-as-sub",
    "near-duplicate-of-sub",
)


@dataclass(frozen=True)
class ImageFacts:
    """What decides whether an image leaks into `sub`."""

    image_id: str
    digest: str | bytes  # sha256 of the image bytes as stored (hex or raw: one kind within a run)
    patient_id: str = ""
    study_id: str = ""


@dataclass
class SubIndex:
    """The images, contents, patients and studies of `sub`."""

    image_ids: set[str] = field(default_factory=set)
    digests: set[str | bytes] = field(default_factory=set)
    patients: set[str] = field(default_factory=set)
    studies: set[str] = field(default_factory=set)

    def add(self, image: ImageFacts) -> None:
        """Add an image of `sub`; empty patient and study ids are left out (they match nothing)."""
        self.image_ids.add(image.image_id)
        self.digests.add(image.digest)
        self.patients.update({image.patient_id} - {""})
        self.studies.update({image.study_id} - {""})

    def leak(self, image: ImageFacts, near_duplicates: set[str] = frozenset()) -> str | None:
        """Why `image` may not be in `train` (one of the reasons above), or None when it may.

        Args:
            image: the image of `full` to check.
            near_duplicates: the ids of the images that are near-duplicates of a `sub` image.

        Returns:
            The first reason that applies, in the order of the rules, or None.
        """
        checks = (
            (IN_SUB, image.image_id in self.image_ids),
            (SAME_IMAGE, image.digest in self.digests),
            (SAME_PATIENT, image.patient_id in self.patients),
            (SAME_STUDY, image.study_id in self.studies),
            (NEAR_DUPLICATE, image.image_id in near_duplicates),
        )
        return next((reason for reason, hit in checks if hit), None)


def near_duplicates(
    ids: list[str], vectors: np.ndarray, sub_ids: set[str], threshold: float = NEAR_DUPLICATE_COSINE, block: int = 4096
) -> dict[str, tuple[str, float]]:
    """Each image outside `sub_ids` whose embedding has cosine >= `threshold` with a `sub` image: its closest `sub`
    image and that cosine. Rows of `vectors` are L2-normalized (as ImageEncoder returns them); done in blocks.

    Args:
        ids: the images' ids, one per row of `vectors`.
        vectors: (N, D) embeddings of the images.
        sub_ids: the ids of the images of `sub`.
        threshold: the least cosine of a near-duplicate.
        block: images compared with `sub` at a time.

    Returns:
        image id -> (its closest `sub` image, their cosine rounded to 4 decimals), for each near-duplicate; empty
        when `sub` holds none or all of the images.
    """
    in_sub = np.array([image_id in sub_ids for image_id in ids])
    if not in_sub.any() or in_sub.all():
        return {}
    sub_rows, other_rows = np.flatnonzero(in_sub), np.flatnonzero(~in_sub)
    sub_vectors = vectors[sub_rows]
    found = {}
    for start in range(0, len(other_rows), block):
        rows = other_rows[start : start + block]
        similarity = vectors[rows] @ sub_vectors.T
        best = similarity.argmax(axis=1)
        for position, (row, column) in enumerate(zip(rows, best)):
            cosine = float(similarity[position, column])
            if cosine >= threshold:
                found[ids[row]] = (ids[sub_rows[column]], round(cosine, 4))
    return found


def train_images(
    images: list[ImageFacts], sub_ids: set[str], near: set[str] = frozenset()
) -> tuple[set[str], Counter]:
    """(the image ids whose questions go to `train`, how many images were kept out of it by reason).

    Args:
        images: what decides a leak, for every image of `full`.
        sub_ids: the ids of the images of `sub`.
        near: the ids of the images that are near-duplicates of a `sub` image (`near_duplicates`).

    Returns:
        The ids of the images kept for `train`, and reason -> how many images it kept out.
    """
    index = SubIndex()
    for image in images:
        if image.image_id in sub_ids:
            index.add(image)
    kept, excluded = set(), Counter()
    for image in images:
        reason = index.leak(image, near)
        if reason:
            excluded[reason] += 1
        else:
            kept.add(image.image_id)
    return kept, excluded
