"""Read the given sources into records and skips, optionally decoding every image, and count what was found."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from tqdm import tqdm

from .errors import ImageError
from .imaging import DEFAULT_MAX_SIDE, StandardImage
from .records import CORRUPT_IMAGE, Record, Skip
from .sources import open_source


@dataclass
class ScanReport:
    records: list[Record] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (image_id, note) from image standardization

    def disease_counts(self) -> dict[str, Counter]:
        counts: dict[str, Counter] = {}
        for record in self.records:
            counts.setdefault(record.source, Counter()).update(record.diseases)
        return counts

    def skip_counts(self) -> dict[str, Counter]:
        counts: dict[str, Counter] = {}
        for skip in self.skips:
            counts.setdefault(skip.source, Counter())[skip.kind] += 1
        return counts


def read_sources(paths: Mapping[str, str | os.PathLike], *, cache_dir=None) -> Iterator[Record | Skip]:
    """Records and skips of every given source, in source order. All paths are checked before reading starts."""
    readers = [open_source(name, path, cache_dir=cache_dir) for name, path in paths.items()]
    for reader in readers:
        yield from reader.read()


def standardized(records: Iterator[Record], max_side: int = DEFAULT_MAX_SIDE) -> Iterator[tuple[Record, StandardImage] | Skip]:
    """Each record with its standardized image, or a CORRUPT_IMAGE skip naming the file and the problem."""
    for record in records:
        try:
            yield record, record.image.load(max_side)
        except ImageError as exc:
            yield Skip(record.source, record.key, CORRUPT_IMAGE, str(exc))


def scan(paths: Mapping[str, str | os.PathLike], *, decode: bool = False, max_side: int = DEFAULT_MAX_SIDE,
         cache_dir=None, progress: bool = False) -> ScanReport:
    report = ScanReport()
    for item in read_sources(paths, cache_dir=cache_dir):
        (report.skips if isinstance(item, Skip) else report.records).append(item)
    if decode:
        kept = []
        for item in standardized(tqdm(report.records, desc="decoding", disable=not progress), max_side):
            if isinstance(item, Skip):
                report.skips.append(item)
            else:
                kept.append(item[0])
                report.notes.extend((item[0].image_id, note) for note in item[1].notes)
        report.records = kept
    return report
