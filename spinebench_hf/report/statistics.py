"""Confidence intervals clustered by study, and paired comparisons of two models on the same questions.

Several questions share a study (an image's diagnosis and localization questions; RSNA slices of one study), so
they are not independent. The standard error of a mean is clustered (Miller 2024, "Adding Error Bars to Evals",
eq. 4): SE² = Σ_c (Σ_{i∈c} (x_i − x̄))² / n², which is the plain SE when every cluster holds one question.

The 95 % interval is Wilson's score interval at the effective sample size n_eff = x̄(1 − x̄) / SE² (= n / the design
effect; for 0/1 scores without clustering exactly n), capped at n. It stays inside the scores' range and keeps its
width at small n: 5 of 5 right is [0.57, 1], not [1, 1]. Where the SE is 0 (every score equal) the design effect
cannot be estimated, and the number of studies is taken as n_eff, the most clustered case. Scores bounded by
[low, high] other than [0, 1] (a difference of two scores: [−1, 1]) are rescaled to [0, 1] for this.

Paired comparisons: the difference A − B per question, its interval as above on [−1, 1], and a two-sided p-value
from flipping the sign of each study's summed difference (exact up to 16 studies, else 20,000 seeded draws).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..seeding import rng_for

Z95 = 1.959963984540054
EXACT_SIGN_FLIPS = 16  # clusters up to which every sign pattern is enumerated (2^16 patterns)
SIGN_FLIP_DRAWS = 20_000


@dataclass(frozen=True)
class Estimate:
    """A mean with its clustered SE, counts of questions and clusters, 95 % interval and effective sample size."""

    mean: float
    se: float  # clustered
    n: int
    clusters: int
    low: float
    high: float
    n_effective: float


def wilson(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion p observed over n (which may be fractional)."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def clustered_mean(
    values: Sequence[float],
    clusters: Sequence[str],
    bounds: tuple[float, float] = (0.0, 1.0),
    weights: Sequence[float] | None = None,
) -> Estimate:
    """The (weighted) mean of scores within `bounds`, its clustered SE and its 95 % interval (module docstring).

    With `weights`, the mean is Σ w·x / Σ w and the SE the cluster-robust one of that ratio,
    SE² = Σ_c (Σ_{i∈c} w_i (x_i − x̄))² / (Σ w)²: how the paper's Overall (each task weighing one half whatever its
    number of questions) gets its interval.
    """
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return Estimate(math.nan, math.nan, 0, 0, math.nan, math.nan, 0.0)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keys, index = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
    mean = float(np.sum(w * x) / np.sum(w))
    residual_sums = np.bincount(index, weights=w * (x - mean), minlength=len(keys))
    se = float(math.sqrt(np.sum(residual_sums**2)) / np.sum(w))
    low, high = bounds
    unit_mean, unit_se = (mean - low) / (high - low), se / (high - low)
    spread = unit_mean * (1 - unit_mean)
    n_effective = min(len(x), max(1.0, spread / unit_se**2)) if unit_se > 0 and spread > 0 else float(len(keys))
    unit_low, unit_high = wilson(min(1.0, max(0.0, unit_mean)), n_effective)
    return Estimate(
        mean, se, len(x), len(keys), low + unit_low * (high - low), low + unit_high * (high - low), n_effective
    )


@dataclass(frozen=True)
class Comparison:
    """A paired comparison of two models: the mean difference A − B with its interval, and its p-value."""

    difference: Estimate  # model A minus model B, per question
    p_value: float  # two-sided, by study-level sign flips


def sign_flip_p_value(differences: np.ndarray, index: np.ndarray, clusters: int) -> float:
    """P(|Σ ±s_c| ≥ |Σ s_c|) over sign patterns of the per-study sums s_c: A and B exchangeable under the null."""
    sums = np.bincount(index, weights=differences, minlength=clusters)
    observed = abs(sums.sum()) - 1e-12
    if clusters <= EXACT_SIGN_FLIPS:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=clusters)))
    else:
        signs = rng_for(0, "sign-flip", clusters).choice((1.0, -1.0), size=(SIGN_FLIP_DRAWS, clusters))
        signs = np.vstack([np.ones(clusters), signs])  # the observed pattern counts: p is never 0
    return float(np.mean(np.abs(signs @ sums) >= observed))


def paired_comparison(a: Sequence[float], b: Sequence[float], clusters: Sequence[str]) -> Comparison:
    """A − B on the same questions (aligned): the mean difference with its clustered interval, and a p-value."""
    differences = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    estimate = clustered_mean(differences, clusters, bounds=(-1.0, 1.0))
    if estimate.n == 0:
        return Comparison(estimate, math.nan)
    _, index = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
    return Comparison(estimate, sign_flip_p_value(differences, index, estimate.clusters))
