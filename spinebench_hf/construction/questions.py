"""Records (+ similarities) → question items, one dataset row each (docs/schema.md, docs/building.md).

Every random choice of an item — its question wording, its answer disease on a multi-label image, the letter
order — comes from an RNG seeded by (seed, item id), so adding a source never changes another item.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..embedding.mining import rank_distractors
from ..labels import DISEASES, HEALTHY, LEVELS
from ..prompts import LETTERS
from ..seeding import rng_for
from ..sources.records import LevelFinding, Record

# The paper's wordings (docs/paper.md §1.3: the question pool was paraphrased by Gemini-2.5-Pro; these are the ones
# shown in the paper's figures).
DIAGNOSIS_QUESTIONS = (
    "What kind of spinal condition is affecting this patient?",
    "Determine the spinal disease affecting this patient.",
    "Which spinal disorder is this patient suffering from?",
    "What type of spinal disease does this patient have?",
    "Can you specify the type of spinal disease this patient is experiencing?",
    "What is the nature of this patient's spinal disease?",
)
LOCALIZATION_QUESTIONS = (
    "What is the site of the disease in the spine?",
    "What level of spine is the lesion located?",
)


@dataclass(frozen=True)
class Item:
    """One question: a dataset row without its image bytes."""

    id: str
    image_id: str
    task: str
    question: str
    options: tuple[str, ...]
    answer: tuple[str, ...]
    answer_text: tuple[str, ...]
    disease: str
    diseases: tuple[str, ...]
    levels: tuple[str, ...]
    source: str
    modality: str
    view: str
    patient_id: str
    study_id: str
    option_similarity: tuple[float | None, ...]  # per option; None where no library; empty for localization

    def row(self) -> dict:
        """The item as a dataset row (without the image): its fields, tuples as lists."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def answer_disease(record: Record, seed: int) -> str:
    """The diagnosis answer: the image's disease; on a multi-label image one of them, drawn from (seed, image id)."""
    if len(record.diseases) == 1:
        return record.diseases[0]
    return record.diseases[int(rng_for(seed, "answer", record.image_id).integers(len(record.diseases)))]


def _lettered(item_id: str, seed: int, texts: list[str], correct: set[str], similarity: list[float | None]) -> dict:
    order = rng_for(seed, "options", item_id).permutation(len(texts))
    options = [texts[i] for i in order]
    return {
        "options": tuple(options),
        "answer": tuple(LETTERS[i] for i, text in enumerate(options) if text in correct),
        "answer_text": tuple(text for text in options if text in correct),
        "option_similarity": tuple(similarity[i] for i in order) if similarity else (),
    }


def _common(record: Record, item_id: str, task: str, pool: tuple[str, ...], seed: int) -> dict:
    return {
        "id": item_id,
        "image_id": record.image_id,
        "task": task,
        "question": pool[int(rng_for(seed, "question", item_id).integers(len(pool)))],
        "diseases": record.diseases,
        "source": record.source,
        "modality": record.modality,
        "view": record.view,
        "patient_id": record.patient_id,
        "study_id": record.study_id,
    }


def diagnosis_item(record: Record, similarity: np.ndarray, seed: int) -> Item:
    """Truth + Healthy + the 3 most similar other diseases (a Healthy image: Healthy + the 4 most similar)."""
    item_id = f"{record.image_id}/diagnosis"
    truth = answer_disease(record, seed)
    excluded = set(record.diseases) | {truth, HEALTHY}
    distractors = rank_distractors(similarity, excluded, 4 if truth == HEALTHY else 3, seed, item_id)
    of = dict(zip(DISEASES, map(float, similarity)))
    texts = [truth] + ([] if truth == HEALTHY else [HEALTHY]) + [d for d, _ in distractors]
    scores = [of.get(text, math.nan) for text in texts]  # Healthy has no library: no similarity
    fields = _lettered(item_id, seed, texts, {truth}, [None if math.isnan(s) else round(s, 6) for s in scores])
    return Item(**_common(record, item_id, "diagnosis", DIAGNOSIS_QUESTIONS, seed), **fields, disease=truth, levels=())


def localization_items(record: Record, seed: int) -> list[Item]:
    """One question per localizable finding: the five levels as options, all positive levels as the answer.
    BUU contributes its lateral images only (docs/building.md)."""
    if record.source == "buu" and record.view != "lateral":
        return []
    return [_localization_item(record, finding, seed) for finding in record.findings]


def _localization_item(record: Record, finding: LevelFinding, seed: int) -> Item:
    slug = finding.condition.lower().replace(" ", "-") + (f"-{finding.side}" if finding.side else "")
    item_id = f"{record.image_id}/localization/{slug}"
    fields = _lettered(item_id, seed, list(LEVELS), set(finding.levels), [])
    return Item(
        **_common(record, item_id, "localization", LOCALIZATION_QUESTIONS, seed),
        **fields,
        disease=finding.condition,
        levels=finding.levels,
    )
