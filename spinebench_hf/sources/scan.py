"""Read the given sources into records and skips, and count what was found (`spinebench scan`; the build's first
step). Decoding the images is the build's standardization stage (`build.standardize.standardize_all`)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import SourceFormatError
from . import open_source
from .base import SourceReader
from .records import Record, Skip


@dataclass
class ScanReport:
    """What reading the sources found: records, skips, what a limit left out; standardization adds notes and PNGs."""

    records: list[Record] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (image_id, note) from image standardization
    limited: Counter = field(default_factory=Counter)  # source -> records left out by a per-source limit
    images: dict[str, str] = field(default_factory=dict)  # image_id -> its standardized PNG (once standardized)

    def disease_counts(self) -> dict[str, Counter]:
        """source -> how many of its records show each disease."""
        counts: dict[str, Counter] = {}
        for record in self.records:
            counts.setdefault(record.source, Counter()).update(record.diseases)
        return counts

    def image_counts(self, source: str) -> tuple[int, Counter]:
        """(images used, images skipped by reason) of one source: its candidates are the images its annotations
        name plus its orphan files; skipped rows and conditions, and what a per-source limit left out, are not."""
        used = sum(1 for record in self.records if record.source == source)
        return used, self.skip_counts(image=True).get(source, Counter())

    def example(self, source: str, kind: str, image: bool = True) -> Skip:
        """The first skip of `source` of this `kind` (of images, or of rows when `image` is False)."""
        return next(s for s in self.skips if (s.source, s.kind, s.image) == (source, kind, image))

    def skip_counts(self, image: bool | None = None) -> dict[str, Counter]:
        """source -> skips by reason: all of them, or only those of images (True) or of rows (False)."""
        counts: dict[str, Counter] = {}
        for skip in self.skips:
            if image is None or skip.image == image:
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
    """Open the given sources, every path checked before any is read, and read them all (`spinebench scan`).

    Args:
        paths: source name -> its folder or archive.
        cache_dir: where tar archives are extracted (default: the settings' cache folder).
        limit_per_source: past this many records of a source, its records are only counted (`limited`).

    Returns:
        The records and skips of every source, in source order; no image is decoded.

    Raises:
        ValueError: a name is not a known source.
        SourceFormatError: a path is not that source, or a table it needs is missing or unreadable.
    """
    return read_all(open_sources(paths, cache_dir=cache_dir), limit_per_source)


class PartialSourceError(SourceFormatError):
    """A source whose images are mostly (or all) skipped: its archive is likely not what the reader expects."""


def check_complete(report: ScanReport, readers: Iterable[SourceReader], allowed: Iterable[str] = ()) -> None:
    """Refuse a source that yields no usable image, or whose skipped images outnumber its used ones, unless it is
    in `allowed`. The message names the source, the counts, and the main reasons with an example each."""
    problems = []
    refused = []
    for reader in readers:
        used, skipped = report.image_counts(reader.name)
        if reader.name in allowed or (used and sum(skipped.values()) <= used):
            continue
        candidates = used + sum(skipped.values())
        verdict = "no usable image" if not used else "more images skipped than used"
        lines = [f"{reader.title} ({reader.name}): {verdict}: {used} of {candidates} candidate images usable"]
        for kind, count in skipped.most_common(3):
            example = report.example(reader.name, kind, image=True)
            lines.append(f"  {count} skipped as {kind}, e.g. {example.key}: {example.reason}")
        problems.append("\n".join(lines))
        refused.append(reader.name)
    if problems:
        names = " ".join(f"--allow-partial {name}" for name in refused)
        raise PartialSourceError(
            "\n".join(problems) + "\nThe archive is probably not in the layout the reader "
            f"expects (spinebench scan shows every skip). To build with what is usable: {names}"
        )
