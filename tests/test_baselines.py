"""Weight-free baselines: chance levels, and the nearest-neighbour rule."""

from collections import Counter

import numpy as np
import pytest

from spinebench_hf.embedding.mining import Library, library_similarity
from spinebench_hf.evaluation.baseline_rules import SUBSETS, healthy_letters, random_letters
from spinebench_hf.evaluation.baselines import most_common_answer, nearest_letters
from spinebench_hf.labels import CLASS_NAMES
from spinebench_hf.metrics import score_diagnosis, score_localization


def test_random_baseline_is_at_chance():
    n = 4000
    rng = np.random.default_rng(1)
    golds = [("ABCDE"[i],) for i in rng.integers(0, 5, n)]
    diagnosis = np.mean([score_diagnosis(random_letters(f"d{i}", "diagnosis", 5, 0), g) for i, g in enumerate(golds)])
    assert abs(diagnosis - 0.2) < 3 * np.sqrt(0.2 * 0.8 / n)
    sets = [SUBSETS[i] for i in rng.integers(0, 31, n)]
    localization = np.mean(
        [score_localization(random_letters(f"l{i}", "localization", 5, 0), g)["acc"] for i, g in enumerate(sets)]
    )
    assert abs(localization - 1 / 31) < 3 * np.sqrt((1 / 31) * (30 / 31) / n)
    assert len(SUBSETS) == 31 and len(set(SUBSETS)) == 31
    assert random_letters("x", "diagnosis", 5, 0) == random_letters("x", "diagnosis", 5, 0)
    picked = Counter(random_letters(f"u{i}", "localization", 5, 3) for i in range(3100))
    assert len(picked) == 31 and min(picked.values()) > 50  # every non-empty subset, roughly uniformly


def test_healthy_baseline():
    assert healthy_letters(["Osteophytes", "Healthy", "Vertebral collapse", "a", "b"], "diagnosis") == ("B",)
    assert healthy_letters(["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"], "localization") == ()


def test_nearest_neighbour_rules():
    library = Library({"Healthy": ("a", "b"), "Osteophytes": ("c",)})
    vectors = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0]), "c": np.array([0.6, 0.8])}
    row = library_similarity(["a"], vectors["a"][None, :], library, vectors, CLASS_NAMES)[0]  # "a" itself is left out
    similarity = {name: value for name, value in zip(CLASS_NAMES, row) if not np.isnan(value)}
    assert similarity == pytest.approx({"Healthy": 0.0, "Osteophytes": 0.6})
    assert nearest_letters(["Healthy", "x", "Osteophytes", "y", "z"], similarity) == ("C",)
    assert nearest_letters(["x", "y", "z", "u", "v"], similarity) == ()
    rows = [
        {"source": 0, "levels": ["L4/L5"]},
        {"source": 0, "levels": ["L4/L5"]},
        {"source": 0, "levels": ["L5/S1"]},
        {"source": 2, "levels": ["L5/S1", "L3/L4"]},
    ]
    assert most_common_answer(rows) == {0: ("L4/L5",), 2: ("L3/L4", "L5/S1")}
