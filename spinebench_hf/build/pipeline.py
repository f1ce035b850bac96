"""`spinebench build`: source archives → records → standardized images → embeddings → options → dataset folder.

The work that costs (standardized PNGs, embeddings) is cached under the cache folder, keyed by content, so a
rebuild does not redo it. The output is a Hub-style folder: `<config>/<split>-0000k-of-0000n.parquet` with image
bytes embedded, README.md (the dataset card, real counts) and build_report.json.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import datasets
import numpy as np
from tqdm import tqdm

from .. import __version__, settings
from ..embedding.mining import disease_similarity, sample_library
from ..imaging import DECODER_NOTE, DEFAULT_MAX_SIDE
from ..schema import CONFIGS, SPLITS
from ..settings import DEFAULT_DATA, DEFAULT_ENCODER, DEFAULT_ENCODER_WEIGHTS, DEFAULT_SEED
from ..sources.records import Record
from ..sources.scan import ScanReport, check_complete, open_sources, read_all
from .dataset_builder import SpineBench, items_file
from .questions import Item, diagnosis_item, localization_items
from .standardize import image_path, standardize_all
from .subset import SUB_SIZES, select_sub, sub_group

logger = logging.getLogger(__name__)
MAX_SHARD_BYTES = 500 * 2**20


@dataclass
class BuildOptions:
    sources: dict[str, str]  # source name -> folder or archive
    output: Path = Path(DEFAULT_DATA)
    seed: int = DEFAULT_SEED
    encoder: str = DEFAULT_ENCODER
    encoder_weights: str = DEFAULT_ENCODER_WEIGHTS
    max_side: int = DEFAULT_MAX_SIDE
    num_proc: int = 1
    limit_per_source: int | None = None
    cache_dir: Path | None = None
    batch_size: int = 32
    device: str | None = None
    progress: bool = False
    allow_partial: tuple[str, ...] = ()  # sources built even when most of their images are skipped


def build(options: BuildOptions) -> dict:
    """Build the dataset folder; return the build report (also written to build_report.json)."""
    from ..embedding.encoder import EmbeddingCache, ImageEncoder

    cache = Path(options.cache_dir) if options.cache_dir else settings.cache_dir()
    readers = open_sources(options.sources, cache_dir=cache)  # fail fast
    encoder = ImageEncoder(options.encoder, options.encoder_weights, device=options.device,
                           batch_size=options.batch_size, seed=options.seed, threads=options.num_proc)  # weights: the standard HF cache
    collected = read_all(readers, options.limit_per_source)
    check_complete(collected, readers, options.allow_partial)  # before the long stages
    standardize_all(collected, cache / "images", options.max_side, options.num_proc, options.progress)
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


def embed_all(records: list[Record], encoder, cache, images: Path, options: BuildOptions) -> np.ndarray:
    from ..embedding.encoder import embed

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
        # datasets writes the parquet shards itself, batch by batch: nothing of the dataset is held or memory-mapped
        builder.download_and_prepare(file_format="parquet", max_shard_size=MAX_SHARD_BYTES)
        in_split = {"full": items[config], "sub": [item for item in items[config] if item.id in sub]}
        written[config] = {split: move_shards(builder, split, options.output / config) | summary(in_split[split])
                           for split in SPLITS}
    return written


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


def summary(items: list[Item]) -> dict:
    return {"by_source": dict(Counter(item.source for item in items)),
            "by_disease": dict(Counter(item.disease for item in items))}


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


def build_report(options, encoder, readers, collected: ScanReport, items, written) -> dict:
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
        "image_notes": [list(note) for note in collected.notes if not note[1].startswith(DECODER_NOTE)],
        # pydicom's warnings (every real VinDr file has some): counted once each, not listed per image
        "decoder_warnings": dict(sorted(Counter(n for _, n in collected.notes if n.startswith(DECODER_NOTE)).items())),
        "packages": package_versions(),
        "files": files,
        "fingerprint": fingerprint,
    }
