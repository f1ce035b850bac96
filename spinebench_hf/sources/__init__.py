"""One reader per source archive, all with the `SourceReader` interface."""

from __future__ import annotations

import os

from .base import SourceReader
from .buu import BuuReader
from .csxa import CsxaReader
from .rsna import RsnaReader
from .vindr import VindrReader

READERS: dict[str, type[SourceReader]] = {r.name: r for r in (BuuReader, CsxaReader, RsnaReader, VindrReader)}


def open_source(name: str, path: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None) -> SourceReader:
    """The reader of source `name` over `path` (folder or archive); fails at once if `path` is not that source."""
    if name not in READERS:
        raise ValueError(f"unknown source {name!r}; expected one of {sorted(READERS)}")
    return READERS[name](path, cache_dir=cache_dir)


__all__ = ["READERS", "SourceReader", "open_source", "BuuReader", "CsxaReader", "RsnaReader", "VindrReader"]
