"""`spinebench build`: source archives → records → standardized images → embeddings → options → dataset folder.

The work that costs (standardized PNGs, embeddings) is cached under the cache folder, keyed by content, so a
rebuild does not redo it. The output is a Hub-style folder: `<config>/<split>-0000k-of-0000n.parquet` with image
bytes embedded, README.md (the dataset card, real counts) and build_report.json.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import datasets
import numpy as np
from tqdm import tqdm

from . import __version__
from .archive import default_cache_dir
from .builder import CONFIGS, SPLITS, SpineBench, items_file
from .errors import ImageError
from .imaging import encode_png
from .mining import disease_similarity, sample_library
from .questions import Item, diagnosis_item, localization_items
from .records import CORRUPT_IMAGE, Record, Skip
from .sources import open_source
from .subset import SUB_SIZES, select_sub, sub_group

logger = logging.getLogger(__name__)
MAX_SHARD_BYTES = 500 * 2**20
STANDARDIZE_VERSION = 1  # bump when the image pipeline changes: cached PNGs are then redone


@dataclass
class BuildOptions:
    sources: dict[str, str]  # source name -> folder or archive
    output: Path = Path("spinebench")
    seed: int = 0
    encoder: str = "ViT-B-16-SigLIP2"
    encoder_weights: str = "webli"
    max_side: int = 1024
    num_proc: int = 1
    limit_per_source: int | None = None
    cache_dir: Path | None = None
    batch_size: int = 32
    device: str | None = None
    progress: bool = False


@dataclass
class Collected:
    records: list[Record] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (image_id, note)
    limited: Counter = field(default_factory=Counter)  # source -> records left out by --limit-per-source


def build(options: BuildOptions) -> dict:
    """Build the dataset folder; return the build report (also written to build_report.json)."""
    from .encoder import EmbeddingCache, ImageEncoder

    cache = Path(options.cache_dir) if options.cache_dir else default_cache_dir()
    readers = [open_source(name, path, cache_dir=cache) for name, path in options.sources.items()]  # fail fast
    encoder = ImageEncoder(options.encoder, options.encoder_weights, device=options.device,
                           batch_size=options.batch_size, seed=options.seed)  # weights: the standard HF cache
    collected = collect(readers, options.limit_per_source)
    standardize_all(collected, cache / "images", options)
    vectors = embed_all(collected.records, encoder, EmbeddingCache(cache / "embeddings.sqlite"), cache / "images", options)
    items = make_items(collected.records, vectors, options.seed)
    options.output.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="build-") as work:
        written = write_dataset(items, collected.records, Path(work), cache / "images", options)
    report = build_report(options, encoder, readers, collected, items, written)
    from .card import write_card

    write_card(options.output, report)
    (options.output / "build_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report


def collect(readers, limit: int | None) -> Collected:
    collected = Collected()
    for reader in readers:
        count = 0
        for item in reader.read():
            if isinstance(item, Skip):
                collected.skips.append(item)
            elif limit is None or count < limit:
                collected.records.append(item)
                count += 1
            else:
                collected.limited[reader.name] += 1
    return collected


def image_path(images: Path, record: Record, max_side: int) -> Path:
    identity = f"{STANDARDIZE_VERSION}|{record.source}|{record.key}|{record.image.tree.fingerprint(record.image.member)}|{max_side}"
    digest = hashlib.sha256(identity.encode()).hexdigest()
    return images / record.source / digest[:2] / f"{digest}.png"


def _standardize_one(task: tuple[Record, Path, int]) -> tuple[str, tuple[str, ...]] | Skip:
    """Worker: write the record's standardized PNG unless cached; return its notes, or a Skip."""
    record, path, max_side = task
    notes_path = path.with_suffix(".notes.json")
    if path.exists() and notes_path.exists():
        return record.image_id, tuple(json.loads(notes_path.read_text()))
    try:
        standard = record.image.load(max_side)
    except ImageError as exc:
        return Skip(record.source, record.key, CORRUPT_IMAGE, str(exc))
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, data in ((path, encode_png(standard.image)), (notes_path, json.dumps(standard.notes).encode())):
        partial = target.with_name(target.name + f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(target)  # atomic: an interrupted build never leaves a half-written image
    return record.image_id, standard.notes


def standardize_all(collected: Collected, images: Path, options: BuildOptions) -> None:
    """Standardize every record's image (in `num_proc` processes); records whose image fails become skips."""
    tasks = ((record, image_path(images, record, options.max_side), options.max_side) for record in collected.records)
    bar = dict(total=len(collected.records), desc="standardizing", disable=not options.progress)
    if options.num_proc > 1:
        with ProcessPoolExecutor(options.num_proc, mp_context=get_context("spawn")) as pool:
            results = list(tqdm(pool.map(_standardize_one, tasks, chunksize=8), **bar))
    else:
        results = [_standardize_one(task) for task in tqdm(tasks, **bar)]
    kept = []
    for record, result in zip(collected.records, results):
        if isinstance(result, Skip):
            collected.skips.append(result)
        else:
            kept.append(record)
            collected.notes.extend((result[0], note) for note in result[1])
    collected.records = kept


def embed_all(records: list[Record], encoder, cache, images: Path, options: BuildOptions) -> np.ndarray:
    from .encoder import embed

    stream = ((r.image_id, image_path(images, r, options.max_side).read_bytes()) for r in records)
    vectors = np.zeros((len(records), encoder.dim), dtype=np.float32)
    bar = tqdm(total=len(records), desc="embedding", disable=not options.progress)
    for row, (_, vector) in enumerate(embed(encoder, cache, stream, options.batch_size)):
        vectors[row] = vector
        bar.update()
    bar.close()
    return vectors


def make_items(records: list[Record], vectors: np.ndarray, seed: int) -> dict[str, list[Item]]:
    ids = [r.image_id for r in records]
    library = sample_library({r.image_id: r.diseases for r in records}, seed)
    similarity = disease_similarity(ids, vectors, library)
    diagnosis = [diagnosis_item(record, row, seed) for record, row in zip(records, similarity)]
    localization = [item for record in records for item in localization_items(record, seed)]
    return {"diagnosis": diagnosis, "localization": localization}


def write_dataset(items: dict[str, list[Item]], records: list[Record], work: Path, images: Path,
                  options: BuildOptions) -> dict:
    """Items → JSON lines → the builder → parquet shards in options.output. Returns what was written."""
    path_of = {r.image_id: str(image_path(images, r, options.max_side)) for r in records}
    written = {}
    datasets.disable_progress_bars()  # the build shows its own progress
    for config in CONFIGS:
        shutil.rmtree(options.output / config, ignore_errors=True)
        if not items[config]:
            continue
        sub = select_sub(items[config], SUB_SIZES[config], sub_group, options.seed)
        with open(items_file(work, config), "w", encoding="utf-8") as out:
            for item in items[config]:
                row = item.row() | {"sub": item.id in sub, "image_path": path_of[item.image_id]}
                out.write(json.dumps(row, allow_nan=False) + "\n")
        builder = SpineBench(config_name=config, data_dir=str(work), cache_dir=str(work / "hf"),
                             hash=hashlib.sha256(items_file(work, config).read_bytes()).hexdigest()[:16])
        builder.download_and_prepare()
        written[config] = {split: write_shards(builder.as_dataset(split=split), options.output / config, split)
                           for split in SPLITS}
    return written


def write_shards(dataset, folder: Path, split: str) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    shards = max(1, math.ceil(dataset.data.nbytes / MAX_SHARD_BYTES))
    files = []
    for index in range(shards):
        path = folder / f"{split}-{index:05d}-of-{shards:05d}.parquet"
        dataset.shard(shards, index, contiguous=True).to_parquet(path)
        files.append(path)
    return {"rows": len(dataset), "bytes": dataset.data.nbytes, "files": files, "by_source": dict(Counter(dataset.features["source"].int2str(dataset["source"]))),
            "by_disease": dict(Counter(dataset.features["disease"].int2str(dataset["disease"])))}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = ["datasets", "pyarrow", "pydicom", "pillow", "numpy", "torch", "open_clip_torch", "pylibjpeg"]
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found | {"spinebench-hf": __version__}


def build_report(options, encoder, readers, collected: Collected, items, written) -> dict:
    files = {f"{config}/{path.name}": file_digest(path)
             for config, splits in written.items() for split in splits.values() for path in split["files"]}
    fingerprint = hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()
    sources = {}
    for reader in readers:
        records = [r for r in collected.records if r.source == reader.name]
        skips = Counter(s.kind for s in collected.skips if s.source == reader.name)
        sources[reader.name] = {
            "title": reader.title, "homepage": reader.homepage, "licence": reader.licence,
            "citation": reader.citation, "redistributable": reader.redistributable,
            "images": len(records), "diseases": dict(Counter(d for r in records for d in r.diseases)),
            "skipped": dict(skips), "limited": collected.limited[reader.name],
        }
    return {
        "spinebench_hf": __version__,
        "seed": options.seed,
        "max_side": options.max_side,
        "encoder": {"name": encoder.name, "weights": encoder.identity.split("|")[1], "weight_hash": encoder.weight_hash},
        "sources": sources,
        "splits": {config: {split: {k: v for k, v in info.items() if k != "files"} for split, info in splits.items()}
                   for config, splits in written.items()},
        "questions": {config: len(config_items) for config, config_items in items.items()},
        "skips": [asdict(skip) for skip in collected.skips],
        "image_notes": [list(note) for note in collected.notes],
        "packages": package_versions(),
        "files": files,
        "fingerprint": fingerprint,
    }
