"""The canonical vocabulary: 11 diseases + Healthy (the paper's Table 5) and the five lumbar disc levels."""

from collections.abc import Iterable

DISEASES = (
    "Disc space narrowing",
    "Foraminal stenosis",
    "Subarticular stenosis",
    "Osteophytes",
    "Spinal canal stenosis",
    "Spondylolisthesis",
    "Straight cervical vertebrae",
    "Vertebral collapse",
    "Cervical kyphosis",
    "Cervical lordosis",
    "Sigmoid cervical vertebrae",
)
HEALTHY = "Healthy"
CLASS_NAMES = DISEASES + (HEALTHY,)

LEVELS = ("L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1")

MODALITY_XRAY = "X-ray"
MODALITY_MRI = "MRI"


def canonical_order(names: Iterable[str], vocabulary: tuple[str, ...]) -> tuple[str, ...]:
    """De-duplicate `names` and sort them in vocabulary order; unknown names raise ValueError."""
    wanted = set(names)
    unknown = wanted.difference(vocabulary)
    if unknown:
        raise ValueError(f"not in the vocabulary: {sorted(unknown)}; expected some of {list(vocabulary)}")
    return tuple(name for name in vocabulary if name in wanted)


def canonical_diseases(names: Iterable[str]) -> tuple[str, ...]:
    return canonical_order(names, CLASS_NAMES)


def canonical_levels(levels: Iterable[str]) -> tuple[str, ...]:
    return canonical_order(levels, LEVELS)
