"""The canonical vocabulary: 11 diseases + Healthy (the paper's Table 5) and the five lumbar disc levels."""

import re
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
    """Disease names (Healthy included) de-duplicated in CLASS_NAMES order; unknown names raise ValueError."""
    return canonical_order(names, CLASS_NAMES)


def canonical_levels(levels: Iterable[str]) -> tuple[str, ...]:
    """Disc levels de-duplicated in LEVELS order (L1/L2 first); unknown levels raise ValueError."""
    return canonical_order(levels, LEVELS)


_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb`"  # straight and curly quotes, guillemets, backticks
_DISEASE_BY_KEY = {name.lower(): name for name in CLASS_NAMES}


def clean_option_text(text: str) -> str:
    """An option as published, without what only wraps it: spaces, quotes and a trailing comma, semicolon or
    full stop (`"Healthy",` → `Healthy`). Its casing and wording are kept."""
    text = text.strip().rstrip(",;").strip()
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text.rstrip(".,;").strip()


def canonical_label(text: object, task: str) -> str | None:
    """A disease (diagnosis) or level (localization) name in the canonical vocabulary, matched case-insensitively
    after `clean_option_text`; None when `text` is neither.

    >>> canonical_label('"spinal  CANAL stenosis",', "diagnosis")
    'Spinal canal stenosis'
    >>> canonical_label("l4-l5", "localization")
    'L4/L5'
    >>> canonical_label("Healthy", "localization") is None
    True
    """
    if not isinstance(text, str):
        return None
    text = clean_option_text(text)
    if task == "diagnosis":
        return _DISEASE_BY_KEY.get(" ".join(text.lower().split()))
    key = re.sub(r"\s+", "", text).upper().replace("-", "/").replace("_", "/").replace("\u2013", "/")
    return key if key in LEVELS else None


def canonical_options(options: Iterable[str], task: str) -> list[str]:
    """Each option's canonical label, or the option itself where it is none (reports count classes, not spellings)."""
    return [canonical_label(option, task) or option for option in options]
