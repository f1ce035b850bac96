"""Read the given sources into records and skips, and count what was found (`spinebench scan`; the build's first
step). Decoding the images is the build's standardization stage (`build.standardize.standardize_all`)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import open_source
from .base import SourceReader
from .records import Record, Skip


@dataclass
class ScanReport:
    records: list[Record] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (image_id, note) from image standardization
    limited: Counter = field(default_factory=Counter)  # source -> records left out by a per-source limit

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


def open_sources(paths: Mapping[str, str | os.PathLike], *, cache_dir=None) -> list[SourceReader]:
    """A reader per given source; every path is checked (and fails at once) before any reading starts."""
    return [open_source(name, path, cache_dir=cache_dir) for name, path in paths.items()]


def read_all(readers: Iterable[SourceReader], limit_per_source: int | None = None) -> ScanReport:
    """Every record and skip of the readers, in source order; past `limit_per_source` records are only counted."""
    report = ScanReport()
    for reader in readers:
        count = 0
        for item in reader.read():
            if isinstance(item, Skip):
                report.skips.append(item)
            elif limit_per_source is None or count < limit_per_source:
                report.records.append(item)
                count += 1
            else:
                report.limited[reader.name] += 1
    return report


def scan(paths: Mapping[str, str | os.PathLike], *, cache_dir=None, limit_per_source: int | None = None) -> ScanReport:
    return read_all(open_sources(paths, cache_dir=cache_dir), limit_per_source)
