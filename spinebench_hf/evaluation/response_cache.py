"""The sweep's response cache: every reply stored as soon as it arrives, so that a rerun sends only what is missing.

A reply is keyed by everything that could change it: the dataset's fingerprint (a rebuilt dataset never reuses a
reply), the item id, the model's identity, the generation settings, and the digests of the prompt and the image.
Only replies are stored; a request that failed is not an answer and is asked again on the next run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..sqlite_store import Store


def reply_key(fingerprint: str, item_id: str, model: str, generation: dict, prompt: str, image: bytes) -> str:
    """The digest of everything that could change a reply (module docstring): the key a reply is stored under."""
    parts = [
        fingerprint,
        item_id,
        model,
        json.dumps(generation, sort_keys=True),
        hashlib.sha256(prompt.encode()).hexdigest(),
        hashlib.sha256(image).hexdigest(),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class ResponseCache:
    """Each `put` is committed at once (`sqlite_store.Store`), so a killed sweep loses at most the requests in
    flight."""

    VERSION = 1

    def __init__(self, path: str | Path):
        self.store = Store(
            path,
            "replies",
            {"model": "TEXT", "item": "TEXT", "reply": "TEXT", "completion_tokens": "INTEGER"},
            self.VERSION,
        )

    def get_many(self, keys: list[str]) -> dict[str, tuple[str, int | None]]:
        """(reply, completion tokens) of every key stored; keys not stored are left out."""
        return {key: (reply, tokens) for key, (_, _, reply, tokens) in self.store.get_many(keys).items()}

    def put(self, key: str, model: str, item: str, reply: str, completion_tokens: int | None) -> None:
        """Store one reply under `key`, with its model, item id and completion tokens, and commit."""
        self.store.put(key, model, item, reply, completion_tokens)

    def close(self) -> None:
        """Close the cache file."""
        self.store.close()
