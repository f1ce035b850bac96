"""Every random choice is drawn from an RNG seeded by (seed, item id), so items never depend on each other."""

import hashlib

import numpy as np


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """A generator determined by the seed and the parts (e.g. an item id), stable across runs and machines."""
    digest = hashlib.sha256(repr((int(seed), *map(str, parts))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))
