"""PNG plots of a report (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def confusion_heatmap(table: pd.DataFrame, model: str, path: Path) -> Path:
    """The confusion table as a heatmap (shaded by row share, annotated with counts), saved to `path`."""
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(table.columns), 1.0 + 0.5 * len(table.index)))
    shares = table.div(table.sum(axis=1).replace(0, 1), axis=0)
    ax.imshow(shares.to_numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(table.index)), table.index)
    for (i, j), count in np.ndenumerate(table.to_numpy()):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"Diagnosis confusion: {model}")
    return save(fig, path)


def accuracy_bars(frame: pd.DataFrame, by: str, title: str, path: Path) -> Path:
    """Grouped bars: one group per `by` value, one bar per model, 95 % CI whiskers."""
    models, values = sorted(frame.model.unique()), sorted(frame[by].unique())
    fig, ax = plt.subplots(figsize=(min(16, max(6, 0.45 * len(values) * len(models))), 4.5))
    width = 0.8 / len(models)
    for k, model in enumerate(models):
        rows = frame[frame.model == model].set_index(by).reindex(values)
        low = (rows.acc - rows.ci_low).clip(lower=0).fillna(0)
        high = (rows.ci_high - rows.acc).clip(lower=0).fillna(0)
        ax.bar(np.arange(len(values)) + k * width, rows.acc.fillna(0), width, yerr=[low, high], capsize=2, label=model)
    ax.set_xticks(np.arange(len(values)) + width * (len(models) - 1) / 2, values, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save(fig, path)


def save(fig, path: Path) -> Path:
    """Write the figure to `path` as a PNG (110 dpi), close it, and return `path`."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
