"""The one sqlite helper behind the three caches: WAL, a schema version, thread-safe writes."""

import sqlite3
from concurrent.futures import ThreadPoolExecutor

from spinebench_hf.sqlite_store import Store


def test_values_round_trip_and_many_keys(tmp_path):
    store = Store(tmp_path / "c.sqlite", "things", {"text": "TEXT", "count": "INTEGER"}, version=1)
    store.put_many((f"k{i}", f"v{i}", i) for i in range(1200))  # more keys than one query may carry
    assert store.get_many([f"k{i}" for i in range(1200)] + ["missing"])["k1199"] == ("v1199", 1199)
    assert len(store.get_many([f"k{i}" for i in range(1200)])) == 1200 and store.get("missing") is None
    assert sqlite3.connect(tmp_path / "c.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_another_version_empties_the_cache_instead_of_misreading_it(tmp_path):
    Store(tmp_path / "c.sqlite", "things", {"text": "TEXT"}, version=1).put("k", "old layout")
    assert Store(tmp_path / "c.sqlite", "things", {"text": "TEXT"}, version=1).get("k") == ("old layout",)
    again = Store(tmp_path / "c.sqlite", "things", {"text": "TEXT", "more": "INTEGER"}, version=2)
    assert again.get("k") is None and len(again) == 0


def test_writes_from_a_thread_pool(tmp_path):
    store = Store(tmp_path / "c.sqlite", "things", {"text": "TEXT"}, version=1)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: store.put(f"k{i}", str(i)), range(400)))
    assert len(store) == 400
