"""The sweep's response cache: every reply stored as soon as it arrives, so that a rerun sends only what is missing.

A reply is keyed by everything that could change it: the dataset's fingerprint (a rebuilt dataset never reuses a
reply), the item id, the model's identity, the generation settings, and the digests of the prompt and the image.
Only replies are stored; a request that failed is not an answer and is asked again on the next run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path


def reply_key(fingerprint: str, item_id: str, model: str, generation: dict, prompt: str, image: bytes) -> str:
    parts = [fingerprint, item_id, model, json.dumps(generation, sort_keys=True),
             hashlib.sha256(prompt.encode()).hexdigest(), hashlib.sha256(image).hexdigest()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class ResponseCache:
    """sqlite in WAL mode: each `put` is committed at once, so a killed sweep loses at most the request in flight."""

    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT, item TEXT, reply TEXT,"
                        " completion_tokens INTEGER)")
        self.db.commit()

    def get_many(self, keys: list[str]) -> dict[str, tuple[str, int | None]]:
        found = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self.db.execute(f"SELECT key, reply, completion_tokens FROM replies WHERE key IN ({','.join('?' * len(chunk))})",
                                   chunk)
            found.update({key: (reply, tokens) for key, reply, tokens in rows})
        return found

    def put(self, key: str, model: str, item: str, reply: str, completion_tokens: int | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?)", (key, model, item, reply, completion_tokens))
        self.db.commit()

    def close(self) -> None:
        self.db.close()
