"""Dataset row → what a harness asks: the verbatim prompt, the image (a grey one for the image-blind variant) and
the fields every per-sample record keeps. Shared by the lighteval task, the lmms-eval task and the sweep; imports
neither torch nor a harness."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from ..dataset_files import circular_folder
from ..metrics import TaskInfo
from ..schema import TASK_VARIANTS

# the row's fields each per-sample record keeps (lighteval's doc.specific, the sweep's details)
SPECIFIC_FIELDS = (
    "id",
    "image_id",
    "task",
    "question",
    "options",
    "answer",
    "source",
    "disease",
    "modality",
    "study_id",
)
BLIND, CIRCULAR = TASK_VARIANTS


def specific(row: dict) -> dict:
    """The SPECIFIC_FIELDS a row has, for its per-sample record."""
    return {field: row[field] for field in SPECIFIC_FIELDS if field in row}


def task_folder(data: str | Path, task: TaskInfo) -> str:
    """The dataset folder a task reads: the dataset, or its rotated copy for circular evaluation."""
    return str(circular_folder(data)) if task.variant == CIRCULAR else str(data)


def blank_like(image: Image.Image) -> Image.Image:
    """A flat grey image of the same size: the image-blind control."""
    return Image.new("RGB", image.size, (128, 128, 128))


def blank_png(image_file: bytes) -> bytes:
    """The grey image of the same size as the image file, as a PNG file."""
    buffer = io.BytesIO()
    blank_like(Image.open(io.BytesIO(image_file))).save(buffer, format="PNG")
    return buffer.getvalue()
