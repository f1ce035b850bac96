"""One way to keep a cache on disk, for the three of them (embeddings, sweep replies, judge verdicts).

A `Store` is one sqlite table keyed by a text key: WAL (readers never wait for the writer), `synchronous=NORMAL`
(a committed row survives a killed process; only a power cut may lose the last ones), a 30 s busy timeout, one
connection usable from the thread pool that fills it, and a schema version in `PRAGMA user_version`. A cache file
written with another version, or by another table layout, is emptied rather than misread: it holds derived work
that is recomputed.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

BATCH = 500  # keys per query: below sqlite's limit on query parameters


class Store:
    """`table(key TEXT PRIMARY KEY, <columns>)` in the sqlite file `path` (or ":memory:").

    Args:
        path: the cache file; its folder is made.
        table: the table's name.
        columns: the value columns' names and sqlite types, e.g. {"reply": "TEXT", "tokens": "INTEGER"}.
        version: the layout's version; a file of another version is emptied.
    """

    def __init__(self, path: str | os.PathLike, table: str, columns: dict[str, str], version: int):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.table, self.columns = table, list(columns)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        if self._db.execute("PRAGMA user_version").fetchone()[0] != version:
            self._db.execute(f"DROP TABLE IF EXISTS {table}")
            self._db.execute(f"PRAGMA user_version = {int(version)}")
        definition = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, {definition}) WITHOUT ROWID")
        self._db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, tuple]:
        """The values of every key present, as tuples in column order."""
        found: dict[str, tuple] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), BATCH):
                chunk = unique[start : start + BATCH]
                rows = self._db.execute(
                    f"SELECT key, {', '.join(self.columns)} FROM {self.table} WHERE key IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update((row[0], tuple(row[1:])) for row in rows)
        return found

    def get(self, key: str) -> tuple | None:
        """The values of `key` in column order, or None when it is not stored."""
        return self.get_many([key]).get(key)

    def put_many(self, rows: Iterable[tuple]) -> None:
        """(key, *values) rows, written and committed together."""
        marks = ", ".join("?" * (len(self.columns) + 1))
        with self._lock:
            self._db.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES ({marks})", list(rows))
            self._db.commit()

    def put(self, key: str, *values) -> None:
        """Store one key's values (in column order), replacing any, and commit."""
        self.put_many([(key, *values)])

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        self._db.close()
