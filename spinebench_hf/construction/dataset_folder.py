"""The Hub-style dataset folder: rows → the `datasets` builder → `<config>/<split>-0000k-of-0000n.parquet`.

Shared by `spinebench build` and `spinebench import-release`. A row is a dataset row (schema.features()) plus
`image_path` (the image file, whose bytes are stored as they are; with `image_member`, a zip file and the member in
it), `sub` (whether SpineBench-Sub holds it) and `train` (whether the leak-free `train` split does).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import datasets

from ..schema import CONFIGS, SPLITS, UNKNOWN
from .dataset_builder import SpineBench, items_file

MAX_SHARD_BYTES = 500 * 2**20
# Rows per parquet row group: about this many bytes of images each, within [MIN, MAX] rows. Few rows keep memory
# low for 1024-px PNGs; a release's small JPEGs need more, or the writer's per-row-group metadata grows with size
# (64,000 records in groups of 16: +148 MiB; bench (h)).
ROW_GROUP_BYTES = 32 * 2**20
MIN_ROWS_PER_GROUP, MAX_ROWS_PER_GROUP = 16, 1024


class DatasetWriter:
    """Rows streamed to one JSON-lines file per config (in a work folder beside the output, on its file system), then
    written by the `datasets` builder as each split's parquet shards into `output/<config>/`. Only the counts are
    held in memory, so a release of any size is written in the memory of the builder's batches.

    A row is a dataset row (schema.features()) plus `image_path` (and `image_member` inside a zip), `sub` and `train`.
    """

    def __init__(self, output: Path):
        self.output = output
        self._work = tempfile.TemporaryDirectory(dir=output.parent, prefix=".spinebench-work-")
        self.work = Path(self._work.name)
        self._files: dict[str, io.TextIOWrapper] = {}
        self._image_bytes: Counter = Counter()
        self._counts = {
            config: {split: {"by_source": Counter(), "by_disease": Counter()} for split in SPLITS}
            for config in CONFIGS
        }

    def add(self, config: str, row: dict, image_bytes: int) -> None:
        """Queue `row` (its image file holds `image_bytes`: they size the parquet row groups)."""
        if config not in self._files:
            self._files[config] = open(items_file(self.work, config), "w", encoding="utf-8")
        self._image_bytes[config] += image_bytes
        self._files[config].write(json.dumps(row, allow_nan=False) + "\n")
        disease = row["disease"] if isinstance(row["disease"], str) else UNKNOWN  # -1: no label
        for split in SPLITS:
            if split == "full" or row.get(split):
                self._counts[config][split]["by_source"][row["source"]] += 1
                self._counts[config][split]["by_disease"][disease] += 1

    def finish(self) -> dict:
        """Write every config that has rows; returns, per config and split, rows, bytes, files and counts."""
        datasets.disable_progress_bars()  # the commands show their own progress
        written = {}
        try:
            for config, handle in list(self._files.items()):
                handle.close()
                written[config] = self._write(config)
        finally:
            self.close()
        return written

    def close(self) -> None:
        """Close the items files and remove the work folder (the shards already moved into the output stay)."""
        for handle in self._files.values():
            handle.close()
        self._work.cleanup()

    def _write(self, config: str) -> dict:
        items = items_file(self.work, config)
        rows = self._counts[config]["full"]["by_source"].total()
        per_group = ROW_GROUP_BYTES * rows // max(1, self._image_bytes[config])
        builder = SpineBench(
            config_name=config,
            data_dir=str(self.work),
            cache_dir=str(self.work / "hf"),
            hash=file_digest(items)[:16],
            writer_batch_size=min(MAX_ROWS_PER_GROUP, max(MIN_ROWS_PER_GROUP, per_group)),
        )
        # datasets writes the parquet shards itself, batch by batch: nothing of the dataset is held or memory-mapped
        builder.download_and_prepare(file_format="parquet", max_shard_size=MAX_SHARD_BYTES)
        return {
            split: move_shards(builder, split, self.output / config)
            | {name: dict(counter) for name, counter in self._counts[config][split].items()}
            for split in SPLITS
        }


def write_configs(rows: dict[str, list[dict]], output: Path) -> dict:
    """Each config's rows into `output/<config>/` (see DatasetWriter)."""
    writer = DatasetWriter(output)
    try:
        for config in CONFIGS:
            for row in rows.get(config, ()):
                writer.add(config, row, os.path.getsize(row["image_path"]))
    except BaseException:
        writer.close()
        raise
    return writer.finish()


def move_shards(builder: SpineBench, split: str, folder: Path) -> dict:
    """The builder's parquet shards of `split`, renamed `<split>-0000k-of-0000n.parquet` into `folder`."""
    made = sorted(Path(builder.cache_dir).glob(f"{builder.dataset_name}-{split}*.parquet"))
    info = builder.info.splits[split]
    if sum(pq_rows(path) for path in made) != info.num_examples:
        raise RuntimeError(
            f"the builder's {split} shards in {builder.cache_dir} do not hold its {info.num_examples} rows"
        )
    folder.mkdir(parents=True, exist_ok=True)  # an empty split (a small build's train) gets no file, and the card
    # does not list it: datasets cannot load a split of no rows ("corresponds to no data")
    files = [folder / f"{split}-{index:05d}-of-{len(made):05d}.parquet" for index in range(len(made))]
    for source, target in zip(made, files):
        shutil.move(source, target)
    return {"rows": info.num_examples, "bytes": info.num_bytes, "files": files}


def pq_rows(path: Path) -> int:
    """The number of rows of a parquet file, from its metadata."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def file_digest(path: Path) -> str:
    """sha256 hex of a file's content, read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_and_fingerprint(written: dict) -> tuple[dict[str, str], str]:
    """Every parquet file's sha256, and the folder's fingerprint: nothing path-dependent goes into either."""
    files = {
        f"{config}/{path.name}": file_digest(path)
        for config, splits in written.items()
        for split in splits.values()
        for path in split["files"]
    }
    return files, hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()


def split_counts(written: dict) -> dict:
    """What the reports and cards show of `written`: everything but the file paths."""
    return {
        config: {split: {k: v for k, v in info.items() if k != "files"} for split, info in splits.items()}
        for config, splits in written.items()
    }
