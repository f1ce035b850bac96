"""A tiny open_clip CLIP model for offline tests: builds in milliseconds, encodes hundreds of images a second."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import open_clip

TINY_NAME = "spinebench-tiny-test"

TINY_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "patch_size": 16, "width": 32, "head_width": 16, "layers": 2, "mlp_ratio": 2.0},
    "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 32, "heads": 2, "layers": 1, "mlp_ratio": 2.0},
}


def register_tiny_model() -> str:
    """Register the tiny config with open_clip (once per process) and return its model name."""
    if TINY_NAME not in open_clip.list_models():
        # open_clip names a config after its file stem, so the file must carry the model name.
        path = Path(tempfile.mkdtemp(prefix="spinebench-tiny-")) / f"{TINY_NAME}.json"
        path.write_text(json.dumps(TINY_CONFIG))
        open_clip.add_model_config(path)
    return TINY_NAME
