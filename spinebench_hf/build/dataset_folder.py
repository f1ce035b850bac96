"""The Hub-style dataset folder: rows → the `datasets` builder → `<config>/<split>-0000k-of-0000n.parquet`.

Shared by `spinebench build` and `spinebench import-release`. A row is a dataset row (schema.features()) plus
`image_path` (the image file, whose bytes are stored as they are) and `sub` (whether SpineBench-Sub holds it).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import datasets

from ..schema import CONFIGS, SPLITS, UNKNOWN
from .dataset_builder import SpineBench, items_file

MAX_SHARD_BYTES = 500 * 2**20


def write_configs(rows: dict[str, list[dict]], output: Path) -> dict:
    """Each config's rows into `output/<config>/`; returns, per config and split, rows, bytes, files and counts.

    The builder's own files go to a work folder beside `output` (same file system: the shards are moved, not copied).
    """
    datasets.disable_progress_bars()  # the commands show their own progress
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".spinebench-work-") as work:
        return {config: write_config(config, rows[config], output, Path(work)) for config in CONFIGS if rows.get(config)}


def write_config(config: str, rows: list[dict], output: Path, work: Path) -> dict:
    """One config's rows as the builder's parquet shards, moved to `output/<config>/`."""
    with open(items_file(work, config), "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, allow_nan=False) + "\n")
    builder = SpineBench(config_name=config, data_dir=str(work), cache_dir=str(work / "hf"),
                         hash=hashlib.sha256(items_file(work, config).read_bytes()).hexdigest()[:16])
    # datasets writes the parquet shards itself, batch by batch: nothing of the dataset is held or memory-mapped
    builder.download_and_prepare(file_format="parquet", max_shard_size=MAX_SHARD_BYTES)
    in_split = {"full": rows, "sub": [row for row in rows if row["sub"]]}
    return {split: move_shards(builder, split, output / config) | summary(in_split[split]) for split in SPLITS}


def move_shards(builder: SpineBench, split: str, folder: Path) -> dict:
    """The builder's parquet shards of `split`, renamed `<split>-0000k-of-0000n.parquet` into `folder`."""
    made = sorted(Path(builder.cache_dir).glob(f"{builder.dataset_name}-{split}*.parquet"))
    info = builder.info.splits[split]
    if sum(pq_rows(path) for path in made) != info.num_examples:
        raise RuntimeError(f"the builder's {split} shards in {builder.cache_dir} do not hold its {info.num_examples} rows")
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"{split}-{index:05d}-of-{len(made):05d}.parquet" for index in range(len(made))]
    for source, target in zip(made, files):
        shutil.move(source, target)
    return {"rows": info.num_examples, "bytes": info.num_bytes, "files": files}


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def summary(rows: list[dict]) -> dict:
    diseases = (row["disease"] if isinstance(row["disease"], str) else UNKNOWN for row in rows)  # -1: no label
    return {"by_source": dict(Counter(row["source"] for row in rows)), "by_disease": dict(Counter(diseases))}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_and_fingerprint(written: dict) -> tuple[dict[str, str], str]:
    """Every parquet file's sha256, and the folder's fingerprint: nothing path-dependent goes into either."""
    files = {f"{config}/{path.name}": file_digest(path)
             for config, splits in written.items() for split in splits.values() for path in split["files"]}
    return files, hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()


def split_counts(written: dict) -> dict:
    """What the reports and cards show of `written`: everything but the file paths."""
    return {config: {split: {k: v for k, v in info.items() if k != "files"} for split, info in splits.items()}
            for config, splits in written.items()}
