"""The build's standardization stage: every record's image → a cached, standardized PNG (in worker processes).

Kept apart from pipeline.py so that the spawned workers import only the imaging code, not datasets or torch.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from tqdm import tqdm

from ..errors import ImageError
from ..imaging import encode_png
from ..sources.records import CORRUPT_IMAGE, Record, Skip
from ..sources.scan import ScanReport

STANDARDIZE_VERSION = 4  # bump when the image pipeline or the cache's naming changes: cached PNGs are then redone
Outcome = tuple[str, tuple[str, ...], str] | Skip  # (image_id, notes, the PNG's path) or why the image was skipped


def image_path(images: Path, record: Record, member_digest: str, max_side: int) -> Path:
    """Where the record's standardized PNG is cached: named by the sha256 of the member's bytes (not its size, date
    or the CRC an archive declares), so a damaged copy of a member never gets the PNG of a good one."""
    identity = f"{STANDARDIZE_VERSION}|{record.source}|{record.key}|{member_digest}|{max_side}"
    digest = hashlib.sha256(identity.encode()).hexdigest()
    return images / record.source / digest[:2] / f"{digest}.png"


def standardize_one(task: tuple[Record, Path, int]) -> Outcome:
    """Write the record's standardized PNG unless cached; return its notes and path, or a Skip."""
    record, images, max_side = task
    try:
        data = record.image.read_bytes()
        path = image_path(images, record, hashlib.sha256(data).hexdigest(), max_side)
        notes_path = path.with_suffix(".notes.json")
        if path.exists() and notes_path.exists():
            return record.image_id, tuple(json.loads(notes_path.read_text())), str(path)
        standard = record.image.standardize(data, max_side)
    except ImageError as exc:
        return Skip(record.source, record.key, CORRUPT_IMAGE, str(exc))
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, data in ((path, encode_png(standard.image)), (notes_path, json.dumps(standard.notes).encode())):
        partial = target.with_name(target.name + f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(target)  # atomic: an interrupted build never leaves a half-written image
    return record.image_id, standard.notes, str(path)


def standardize_records(
    records: list[Record], images: Path, max_side: int, num_proc: int = 1, progress: bool = False
) -> list[Outcome]:
    """The outcome of each record, in order; `num_proc` > 1 spreads the images over that many processes."""
    tasks: Iterator = ((record, images, max_side) for record in records)
    bar = dict(total=len(records), desc="standardizing", disable=not progress)
    if num_proc <= 1:
        return [standardize_one(task) for task in tqdm(tasks, **bar)]
    # Small chunks keep every worker busy to the end; a chunk still carries enough images to hide the pickling.
    chunksize = max(1, min(16, math.ceil(len(records) / (num_proc * 8))))
    pool = ProcessPoolExecutor(num_proc, mp_context=get_context("spawn"), initializer=ignore_interrupts)
    try:
        return list(tqdm(pool.map(standardize_one, tasks, chunksize=chunksize), **bar))
    finally:  # on Ctrl-C: the chunks not started are dropped, the images in hand finish (each is written whole)
        pool.shutdown(wait=True, cancel_futures=True)


def ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the parent's to handle (it stops the pool); a worker never prints a traceback of it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def standardize_all(
    report: ScanReport, images: Path, max_side: int, num_proc: int = 1, progress: bool = False
) -> ScanReport:
    """Standardize every scanned record's image (cached under `images`); a record whose image fails becomes a skip."""
    outcomes = standardize_records(report.records, images, max_side, num_proc, progress)
    kept = []
    for record, outcome in zip(report.records, outcomes):
        if isinstance(outcome, Skip):
            report.skips.append(outcome)
        else:
            kept.append(record)
            report.notes.extend((outcome[0], note) for note in outcome[1])
            report.images[outcome[0]] = outcome[2]
    report.records = kept
    return report
