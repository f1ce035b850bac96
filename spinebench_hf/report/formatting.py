"""How every number of a report reads, in Markdown, on the HTML pages and on the leaderboard: one place.

Scores are fractions in [0, 1] in the data and percentages with one decimal on the page; an interval follows its
estimate in brackets. Never scientific notation, never "-0.0" (a bound that is 0 within rounding, such as the
1e-17 of floating-point noise, prints as 0.0), and "-" where there is no number.

>>> percent(0.43751)
'43.8'
>>> percent(-1.4e-17)
'0.0'
>>> with_interval(0.4375, 0.3121, 0.5702)
'43.8 [31.2, 57.0]'
>>> percent(None)
'-'
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable

import pandas as pd

from ..errors import SpineBenchError

MISSING = "-"


def is_missing(value: object) -> bool:
    """Whether there is no number to show: None, NaN, or not a number at all."""
    return not isinstance(value, numbers.Real) or isinstance(value, bool) or math.isnan(float(value))


def percent(value: float | None, decimals: int = 1) -> str:
    """A fraction as a percentage with `decimals` decimals (0.5 → "50.0"); "-" for None or NaN.

    Args:
        value: a fraction, usually in [0, 1].
        decimals: digits after the point.

    Returns:
        The percentage without a sign for zero ("0.0", never "-0.0") and never in scientific notation.
    """
    if value is None or is_missing(value):
        return MISSING
    text = f"{100 * value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def interval(low: float | None, high: float | None) -> str:
    """A 95 % interval of fractions as "[31.2, 57.0]"; "" where it is unknown."""
    if low is None or high is None or is_missing(low) or is_missing(high):
        return ""
    return f"[{percent(low)}, {percent(high)}]"


def with_interval(value: float | None, low: float | None, high: float | None) -> str:
    """An estimate and its interval, "43.8 [31.2, 57.0]"; the estimate alone where the interval is unknown."""
    bounds = interval(low, high)
    return f"{percent(value)} {bounds}" if bounds and not is_missing(value) else percent(value)


def slug(text: str) -> str:
    """`text` made safe as a file name: every run of other characters than letters, digits, `.`, `_`, `-` is `_`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def unique_slugs(names: Iterable[str], what: str) -> dict[str, str]:
    """Each name's `slug` (a folder, file or config name), by name; two names with the same slug are refused.

    Raises:
        SpineBenchError: two names would share one `what` (e.g. "config", "report folder").
    """
    slugs: dict[str, str] = {}
    for name in sorted(set(names)):
        made = slug(name) or "model"
        other = next((known for known, taken in slugs.items() if taken == made), None)
        if other is not None:
            raise SpineBenchError(f"the models {other!r} and {name!r} would share the {what} {made!r}: rename one")
        slugs[name] = made
    return slugs


# --- tables ---------------------------------------------------------------------------------------------------
COUNT_COLUMNS = frozenset(
    {"n", "gold", "predicted", "invalid", "failed", "questions", "chosen", "correct_letter", "right_without_image"}
)
NOT_FRACTIONS = COUNT_COLUMNS | {"p_value"}


def p_value(value: float | None) -> str:
    """A p-value with two decimals, "< 0.01" below that; "-" where there is none."""
    if value is None or is_missing(value):
        return MISSING
    return "< 0.01" if value < 0.005 else f"{value:.2f}"


def cell(column: str, value: object) -> str:
    """One table cell as shown: counts as whole numbers, p-values as `p_value`, other numbers as percentages."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return MISSING if value is None else str(value)
    if math.isnan(float(value)):
        return MISSING
    if column == "p_value":
        return p_value(float(value))
    if column in COUNT_COLUMNS or isinstance(value, numbers.Integral):
        return f"{int(round(float(value)))}"
    return percent(float(value))


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A results table as it is shown, every cell text: fractions as percentages (their headings say "%"), an
    estimate and its `ci_low`/`ci_high` in one "43.8 [31.2, 57.0]" cell, counts whole, p-values two decimals.

    >>> display_frame(pd.DataFrame({"model": ["m"], "acc": [0.4375], "ci_low": [0.3121], "ci_high": [0.5702]}))
      model acc % [95 % CI]
    0     m 43.8 [31.2, 57.0]
    """
    shown = pd.DataFrame(index=frame.index)
    columns = list(frame.columns)
    merged = "ci_low" in columns and "ci_high" in columns and columns.index("ci_low") > 0
    estimate = columns[columns.index("ci_low") - 1] if merged else None
    for column in columns:
        if merged and column in ("ci_low", "ci_high"):
            continue
        values = frame[column]
        if column == estimate:
            shown[f"{column} % [95 % CI]"] = [
                with_interval(v, lo, hi) for v, lo, hi in zip(values, frame.ci_low, frame.ci_high)
            ]
            continue
        numeric = pd.api.types.is_float_dtype(values) and column not in NOT_FRACTIONS
        shown[f"{column} %" if numeric else str(column)] = [cell(str(column), v) for v in values]
    return shown
