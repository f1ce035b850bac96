"""Reading a built dataset folder (a build, an import or its circular copy) straight from its parquet files.

The folder's layout is the stored contract (`<config>/<split>-0000k-of-0000n.parquet`, schema.py), so pyarrow reads it
without `datasets` (a second to import): the sweep starts at once, and the reports find a sweep's images by id.
ClassLabel columns come back as their indices, as `datasets` gives them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import SpineBenchError

REPORTS = ("build_report.json", "import_report.json")


def dataset_fingerprint(data: str | Path) -> str:
    """The fingerprint a build (build_report.json) or an imported release (import_report.json) recorded."""
    for name in REPORTS:
        path = Path(data) / name
        if path.is_file():
            return json.loads(path.read_text())["fingerprint"]
    raise SpineBenchError(f"{data}: not a SpineBench dataset folder (no build_report.json or import_report.json)")


def circular_folder(data: str | Path) -> Path:
    """Where `spinebench eval --circular` writes the rotated copy of a dataset: beside it."""
    return Path(str(Path(data).resolve()) + "-circular")


def shard_files(data: str | Path, config: str, split: str) -> list[Path]:
    """The parquet shards of a config's split, in order; SpineBenchError when there are none."""
    files = sorted((Path(data) / config).glob(f"{split}-*.parquet"))
    if not files:
        raise SpineBenchError(
            f"{data}: no {config}/{split}-*.parquet (not a SpineBench dataset folder, or the split holds no question)"
        )
    return files


def read_rows(
    data: str | Path, config: str, split: str, columns: list[str] | None = None, ids: Iterable[str] | None = None
) -> Iterator[dict]:
    """The rows of a config's split, one at a time (only those whose id is in `ids`, when given).

    Args:
        data: the dataset folder (a build, an imported release or its circular copy).
        config: "diagnosis" or "localization".
        split: "full", "sub" or "train".
        columns: the columns to read (default: all); `id` must be among them when `ids` is given.
        ids: the question ids wanted; every row when None.

    Returns:
        An iterator of rows as dicts of column values, read lazily shard by shard; `image` is the stored file's
        {"bytes", "path"}, and ClassLabel columns are their indices.

    Raises:
        SpineBenchError: the folder has no shard of that config and split, or a shard is not a readable parquet file
            (raised while iterating, since the rows are read lazily).
    """
    import pyarrow.parquet as pq

    wanted = set(ids) if ids is not None else None
    for path in shard_files(data, config, split):
        try:
            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=64, columns=columns):
                for row in batch.to_pylist():
                    if wanted is None or row["id"] in wanted:
                        yield row
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise SpineBenchError(f"{path}: not a readable parquet file (truncated or damaged?): {exc}") from None


def images_by_id(data: str | Path, config: str, split: str, ids: Iterable[str]) -> dict[str, bytes]:
    """The stored image file of each question in `ids`."""
    return {row["id"]: row["image"]["bytes"] for row in read_rows(data, config, split, ["id", "image"], ids)}
