"""The weight-free baselines' answers as plain functions (no harness, no torch): the lighteval model classes in
baselines.py and the sweep's `baseline` entries both answer with these."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from ..labels import HEALTHY, canonical_options
from ..prompts import LETTERS
from ..seeding import rng_for

SUBSETS = [combo for size in range(1, 6) for combo in combinations(LETTERS, size)]  # the 31 non-empty sets


def answer_reply(letters: Sequence[str], task: str) -> str:
    """A reply in the paper's contract, as a compliant model writes it."""
    if task == "diagnosis":
        return f"My final option: [{', '.join(letters)}]"
    return f"My final options: [{', '.join(letters)}]"


def random_letters(item_id: str, task: str, n_options: int, seed: int) -> tuple[str, ...]:
    """A letter uniformly (diagnosis), or a non-empty set of the 5 levels uniformly; seeded by (seed, item id)."""
    rng = rng_for(seed, "random-baseline", item_id)
    if task == "diagnosis":
        return (LETTERS[int(rng.integers(n_options))],)
    return SUBSETS[int(rng.integers(len(SUBSETS)))]


def healthy_letters(options: Sequence[str], task: str) -> tuple[str, ...]:
    """Healthy's letter (diagnosis); no level (localization)."""
    labels = canonical_options(options, task)  # an imported release shows its own spelling ("healthy")
    if task == "diagnosis" and HEALTHY in labels:
        return (LETTERS[labels.index(HEALTHY)],)
    return ()
