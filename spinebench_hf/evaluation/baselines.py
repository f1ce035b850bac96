"""Baselines that need no weights (docs/scoring.md). They answer in the paper's format, so they run the
whole pipeline, and their chance levels are known:

- `random`: a letter uniformly (diagnosis: 20 %); a non-empty subset of the 5 levels uniformly (localization exact
  set: 1/31 ≈ 3.2 %). Seeded by (SPINEBENCH_BASELINE_SEED, item id).
- `healthy`: always "Healthy" (diagnosis: the share of Healthy answers); localization: no level, so it scores 0.
- `nearest-neighbour`: the image's SigLIP2 embedding against per-class libraries (≤ 200 images per class of the
  dataset's `full` split, Healthy included, sampled and compared as the build's libraries; the image itself left
  out): picks the option whose class is most
  similar. Localization: the answer set most common for the item's source. Encoder from SPINEBENCH_ENCODER /
  SPINEBENCH_ENCODER_WEIGHTS (default ViT-B-16-SigLIP2 / webli).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from ..embedding.mining import Library, library_similarity, sample_library
from ..labels import CLASS_NAMES, canonical_options
from ..prompts import LETTERS
from ..settings import baseline_encoder, baseline_seed, data_path
from .backends import SpineBenchModel
from .baseline_rules import answer_reply, healthy_letters, random_letters


class RandomBaseline(SpineBenchModel):
    """The `random` baseline: a seeded uniform letter (diagnosis) or non-empty letter set (localization)."""

    def replies(self, docs):
        """One reply per Doc in the paper's format, seeded by (SPINEBENCH_BASELINE_SEED, item id)."""
        seed = baseline_seed()
        return [
            answer_reply(
                random_letters(d.specific["id"], d.specific["task"], len(d.choices), seed), d.specific["task"]
            )
            for d in docs
        ]


class HealthyBaseline(SpineBenchModel):
    """The `healthy` baseline: always Healthy (diagnosis), no level (localization)."""

    def replies(self, docs):
        """One reply per Doc in the paper's format: Healthy's letter, or an empty list of levels."""
        return [
            answer_reply(healthy_letters(list(d.specific["options"]), d.specific["task"]), d.specific["task"])
            for d in docs
        ]


def nearest_letters(options: list[str], similarity: dict[str, float]) -> tuple[str, ...]:
    """The letter of the option most similar to the image (the first on a tie); () when no option has a score."""
    scored = [(similarity[o], -i) for i, o in enumerate(options) if o in similarity]
    if not scored:
        return ()
    return (LETTERS[-max(scored)[1]],)


def most_common_answer(rows) -> dict[int, tuple[str, ...]]:
    """Per source, the localization level set that is most often the answer (as level texts)."""
    sets: defaultdict[int, Counter] = defaultdict(Counter)
    for row in rows:
        sets[row["source"]][tuple(sorted(row["levels"]))] += 1
    return {source: max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0] for source, counts in sets.items()}


class NearestNeighbourBaseline(SpineBenchModel):
    """The `nearest-neighbour` baseline: the closest class library (diagnosis), the usual levels (localization)."""

    def __init__(self, config, data: str | None = None):
        super().__init__(config)
        import datasets

        from ..embedding.encoder import ImageEncoder

        data = data or data_path()
        self.encoder = ImageEncoder(*baseline_encoder())
        diagnosis = datasets.load_dataset(data, "diagnosis", split="full")
        self.library, self.library_vectors = self._library(diagnosis, baseline_seed())
        localization = datasets.load_dataset(data, "localization", split="full")
        self.usual_levels = most_common_answer(localization.remove_columns("image"))

    def _library(self, rows, seed: int) -> tuple[Library, dict[str, np.ndarray]]:
        """Up to LIBRARY_SIZE images per class (Healthy included), sampled as the build samples its libraries."""
        classes_by_image = {
            image_id: (CLASS_NAMES[disease],) for image_id, disease in zip(rows["image_id"], rows["disease"])
        }
        library = sample_library(classes_by_image, seed, classes=CLASS_NAMES)
        members = sorted({image_id for ids in library.members.values() for image_id in ids})
        index = {image_id: i for i, image_id in enumerate(rows["image_id"])}
        images = rows.select([index[image_id] for image_id in members])["image"]
        return library, dict(zip(members, self.encoder.encode(images)))

    def similarity(self, image_id: str, vector: np.ndarray) -> dict[str, float]:
        """Mean cosine similarity to each class library, the image itself left out."""
        row = library_similarity([image_id], vector[None, :], self.library, self.library_vectors, CLASS_NAMES)[0]
        return {name: float(value) for name, value in zip(CLASS_NAMES, row) if not np.isnan(value)}

    def replies(self, docs):
        """One reply per Doc in the paper's format, from its first image's embedding or its source's usual levels."""
        vectors = self.encoder.encode([d.images[0] for d in docs])
        answers = []
        for doc, vector in zip(docs, vectors):
            task = doc.specific["task"]
            options = canonical_options(doc.specific["options"], task)
            if task == "diagnosis":
                letters = nearest_letters(options, self.similarity(doc.specific["image_id"], vector))
            else:
                usual = self.usual_levels.get(doc.specific["source"], ())
                letters = tuple(sorted(LETTERS[options.index(level)] for level in usual if level in options))
            answers.append(answer_reply(letters, task))
        return answers
