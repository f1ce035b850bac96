"""Confidence intervals clustered by study, and paired comparisons of two models on the same questions.

Several questions share a study (an image's diagnosis and localization questions; RSNA slices of one study), so
they are not independent. The standard error of a mean is clustered (Miller 2024, "Adding Error Bars to Evals",
eq. 4): SE² = Σ_c (Σ_{i∈c} (x_i − x̄))² / n², which is the plain SE when every cluster holds one question.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    mean: float
    se: float
    n: int
    clusters: int

    @property
    def low(self) -> float:
        return self.mean - Z95 * self.se

    @property
    def high(self) -> float:
        return self.mean + Z95 * self.se


def clustered_mean(values: Sequence[float], clusters: Sequence[str]) -> Estimate:
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return Estimate(math.nan, math.nan, 0, 0)
    keys, index = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
    residual_sums = np.bincount(index, weights=x - x.mean(), minlength=len(keys))
    return Estimate(float(x.mean()), float(math.sqrt(np.sum(residual_sums**2)) / len(x)), len(x), len(keys))


@dataclass(frozen=True)
class Comparison:
    difference: Estimate  # model A minus model B, per question
    p_value: float  # two-sided, normal approximation


def paired_comparison(a: Sequence[float], b: Sequence[float], clusters: Sequence[str]) -> Comparison:
    """A − B on the same questions (aligned), with a study-clustered SE of the per-question differences."""
    difference = clustered_mean(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), clusters)
    if difference.se == 0 or math.isnan(difference.se):
        p = 1.0 if difference.mean == 0 else 0.0
    else:
        p = math.erfc(abs(difference.mean / difference.se) / math.sqrt(2))
    return Comparison(difference, p)
