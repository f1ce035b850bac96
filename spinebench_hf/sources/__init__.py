"""One reader per source archive, all with the `SourceReader` interface; the core's `source_catalog` describes
them without them.

The readers (and pydicom, pandas) load on first use of READERS, open_source or a reader class, not on import of this
package: the command line lists the sources from the catalog alone.
"""

from __future__ import annotations

import importlib
import os

from ..source_catalog import CATALOG

_READER_CLASSES = {"BuuReader": ".buu", "CsxaReader": ".csxa", "RsnaReader": ".rsna", "VindrReader": ".vindr"}


def __getattr__(name: str):
    if name in _READER_CLASSES:
        return getattr(importlib.import_module(_READER_CLASSES[name], __name__), name)
    if name == "READERS":
        readers = {reader.name: reader for reader in (__getattr__(cls) for cls in _READER_CLASSES)}
        globals()["READERS"] = readers
        return readers
    if name == "SourceReader":
        from .base import SourceReader

        return SourceReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_source(name: str, path: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None):
    """The reader of source `name` over `path` (folder or archive); fails at once if `path` is not that source.

    Args:
        name: the source's short id, one of `READERS`: buu, csxa, rsna or vindr.
        path: the source's folder, or its archive (.zip, .tar, .tar.gz or .tgz).
        cache_dir: where a tar archive is extracted once (default: the settings' cache folder).

    Returns:
        The source's `SourceReader`, its tree opened and its root found; nothing is read before `read()`.

    Raises:
        ValueError: `name` is not a known source.
        SourceFormatError: `path` does not exist, is not a readable folder or archive, or is not laid out as that
            source.
    """
    readers = __getattr__("READERS")
    if name not in readers:
        raise ValueError(f"unknown source {name!r}; expected one of {sorted(readers)}")
    return readers[name](path, cache_dir=cache_dir)


__all__ = ["CATALOG", "READERS", "SourceReader", "open_source", "BuuReader", "CsxaReader", "RsnaReader", "VindrReader"]
