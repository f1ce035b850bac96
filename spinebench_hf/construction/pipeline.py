"""`spinebench build`: source archives → records → standardized images → embeddings → options → dataset folder.

The work that costs (standardized PNGs, embeddings) is cached under the cache folder, keyed by content, so a
rebuild does not redo it. The output is a Hub-style folder: `<config>/<split>-0000k-of-0000n.parquet` with image
bytes embedded, README.md (the dataset card, real counts) and build_report.json.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import __version__, settings
from ..embedding.mining import disease_similarity, sample_library
from ..imaging import DECODER_NOTE, DEFAULT_MAX_SIDE
from ..schema import CONFIGS, SUB_SIZES, SYNTHETIC_NOTE
from ..settings import DEFAULT_DATA, DEFAULT_ENCODER, DEFAULT_ENCODER_WEIGHTS, DEFAULT_SEED
from ..sources.records import Record
from ..sources.scan import ScanReport, check_complete, open_sources, read_all
from .dataset_folder import files_and_fingerprint, split_counts, write_configs
from .output_folder import check_output, staged_output
from .questions import Item, diagnosis_item, localization_items
from .standardize import standardize_all
from .subset import select_sub, sub_group
from .train_split import NEAR_DUPLICATE_COSINE, ImageFacts, near_duplicates, train_images

logger = logging.getLogger(__name__)


@dataclass
class BuildOptions:
    """What `spinebench build` is given: the sources, the output folder and the build's settings."""

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
    synthetic: bool = False  # the sources are `spinebench samples` drawings: every report of a run on it says so


def build(options: BuildOptions) -> dict:
    """Build the dataset folder; return the build report (also written to build_report.json).

    Args:
        options: the sources, the output folder and the build's settings.

    Returns:
        The build report: versions, seed, encoder, each source's counts and skips, the splits' sizes, the `train`
        rule, every parquet file's sha256 and the fingerprint.

    Raises:
        OutputRefused: `options.output` is not a folder, or holds files SpineBench did not write.
        ValueError: a name in `options.sources` is not a known source.
        SourceFormatError: a source path is not that source, or a table it needs is missing or unreadable.
        EncoderError: the image encoder cannot be built (unknown model; weights missing, unreadable or unfit).
        PartialSourceError: a source yields no usable image, or skips more images than it uses, and is not in
            `options.allow_partial`.
    """
    from ..embedding.encoder import EmbeddingCache, ImageEncoder

    cache = Path(options.cache_dir) if options.cache_dir else settings.cache_dir()
    check_output(options.output)  # before the long stages; checked again when the new dataset is swapped in
    readers = open_sources(options.sources, cache_dir=cache)  # fail fast
    encoder = ImageEncoder(
        options.encoder,
        options.encoder_weights,
        device=options.device,
        batch_size=options.batch_size,
        seed=options.seed,
        threads=options.num_proc,
    )  # weights: the standard HF cache
    collected = read_all(readers, options.limit_per_source)
    check_complete(collected, readers, options.allow_partial)  # before the long stages
    standardize_all(collected, cache / "images", options.max_side, options.num_proc, options.progress)
    vectors, digests = embed_all(collected, encoder, EmbeddingCache(cache / "embeddings.sqlite"), options)
    items = make_items(collected.records, vectors, options.seed)
    cache.mkdir(parents=True, exist_ok=True)
    from .card import write_card

    with staged_output(options.output) as staging:
        splits = mark_splits(items, collected.records, vectors, digests, options.seed)
        written = write_dataset(items, splits, collected, staging)
        report = build_report(options, encoder, readers, collected, items, written) | {"train": splits.report()}
        if options.synthetic:
            report["synthetic"] = SYNTHETIC_NOTE
        write_card(staging, report)
        (staging / "build_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report


def embed_all(collected: ScanReport, encoder, cache, options: BuildOptions) -> tuple[np.ndarray, list[str]]:
    """Every record's embedding (a row each, in order), and the sha256 of each standardized PNG (read here anyway)."""
    from ..embedding.encoder import embed

    records = collected.records
    digests: list[str] = []

    def stream():
        for record in records:
            data = Path(collected.images[record.image_id]).read_bytes()
            digests.append(hashlib.sha256(data).hexdigest())
            yield record.image_id, data

    vectors = np.zeros((len(records), encoder.dim), dtype=np.float32)
    bar = tqdm(total=len(records), desc="embedding", disable=not options.progress)
    for row, (_, vector) in enumerate(embed(encoder, cache, stream(), options.batch_size)):
        vectors[row] = vector
        bar.update()
    bar.close()
    return vectors, digests


def make_items(records: list[Record], vectors: np.ndarray, seed: int) -> dict[str, list[Item]]:
    """Each config's items: a diagnosis question per record, a localization question per localizable finding."""
    ids = [r.image_id for r in records]
    library = sample_library({r.image_id: r.diseases for r in records}, seed)
    similarity = disease_similarity(ids, vectors, library)
    diagnosis = [diagnosis_item(record, row, seed) for record, row in zip(records, similarity)]
    localization = [item for record in records for item in localization_items(record, seed)]
    return {"diagnosis": diagnosis, "localization": localization}


@dataclass
class Splits:
    """Which questions are in `sub`, and which images' questions are in `train` (with why the others are not)."""

    sub: dict[str, set[str]]  # config -> question ids
    train: set[str]  # image ids
    excluded: Counter
    near: dict[str, tuple[str, float]]  # image id -> (its closest sub image, cosine)

    def report(self) -> dict:
        """The build report's `train` part: the rule, the image count, and why the other images were left out."""
        return {
            "rule": TRAIN_RULE,
            "images": len(self.train),
            "excluded_images": dict(sorted(self.excluded.items())),
            "near_duplicate_cosine": NEAR_DUPLICATE_COSINE,
            "near_duplicates": [[image, *closest] for image, closest in sorted(self.near.items())],
        }


TRAIN_RULE = (
    "questions of full whose image shares neither content (sha256), patient, study nor a SigLIP2 "
    f"near-duplicate (cosine >= {NEAR_DUPLICATE_COSINE}) with an image of sub, in either config"
)


def mark_splits(
    items: dict[str, list[Item]], records: list[Record], vectors: np.ndarray, digests: list[str], seed: int
) -> Splits:
    """Choose each config's `sub`, then the images whose questions go to `train`."""
    sub = {
        config: select_sub(items[config], SUB_SIZES[config], sub_group, seed) if items[config] else set()
        for config in CONFIGS
    }
    sub_images = {item.image_id for config in CONFIGS for item in items[config] if item.id in sub[config]}
    near = near_duplicates([r.image_id for r in records], vectors, sub_images)
    facts = [ImageFacts(r.image_id, digest, r.patient_id, r.study_id) for r, digest in zip(records, digests)]
    train, excluded = train_images(facts, sub_images, set(near))
    return Splits(sub, train, excluded, near)


def write_dataset(items: dict[str, list[Item]], splits: Splits, collected: ScanReport, output: Path) -> dict:
    """Items (with their standardized PNGs, SpineBench-Sub and train marked) → the dataset folder."""
    rows = {
        config: [
            item.row()
            | {
                "sub": item.id in splits.sub[config],
                "train": item.image_id in splits.train,
                "image_path": collected.images[item.image_id],
            }
            for item in items[config]
        ]
        for config in CONFIGS
    }
    return write_configs(rows, output)


def package_versions() -> dict[str, str]:
    """The installed versions of the packages a build depends on, and spinebench-hf's own."""
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
    """The build report without its `train` part: settings, encoder, sources, splits, skips, notes and files."""
    files, fingerprint = files_and_fingerprint(written)
    sources = {}
    for reader in readers:
        records = [r for r in collected.records if r.source == reader.name]
        skips = Counter(s.kind for s in collected.skips if s.source == reader.name)
        sources[reader.name] = {
            "title": reader.title,
            "homepage": reader.homepage,
            "licence": reader.licence,
            "citation": reader.citation,
            "redistributable": reader.redistributable,
            "images": len(records),
            "diseases": dict(Counter(d for r in records for d in r.diseases)),
            "skipped": dict(skips),
            "limited": collected.limited[reader.name],
        }
    return {
        "spinebench_hf": __version__,
        "seed": options.seed,
        "max_side": options.max_side,
        "encoder": {
            "name": encoder.name,
            "weights": encoder.identity.split("|")[1],
            "weight_hash": encoder.weight_hash,
        },
        "sources": sources,
        "splits": split_counts(written),
        "questions": {config: len(config_items) for config, config_items in items.items()},
        "skips": [asdict(skip) for skip in collected.skips],
        "image_notes": [list(note) for note in collected.notes if not note[1].startswith(DECODER_NOTE)],
        # pydicom's warnings (every real VinDr file has some): counted once each, not listed per image
        "decoder_warnings": dict(sorted(Counter(n for _, n in collected.notes if n.startswith(DECODER_NOTE)).items())),
        "packages": package_versions(),
        "files": files,
        "fingerprint": fingerprint,
    }
