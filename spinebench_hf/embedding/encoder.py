"""Image embeddings for the distractor mining (SigLIP2 by default), and a sqlite cache so no image is embedded twice.

`ImageEncoder` builds an open_clip model, keeps only its image tower and always preprocesses the SigLIP way (resize
to the tower's size without crop, bicubic, mean/std 0.5): given no pretrained tag, open_clip would silently fall
back to the OpenAI CLIP preprocess (docs/library-notes.md §3).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from huggingface_hub import constants as hub_constants
from huggingface_hub import try_to_load_from_cache
from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME
from open_clip.factory import load_state_dict
from open_clip.transform import PreprocessCfg, image_transform_v2
from PIL import Image

from ..errors import SpineBenchError
from ..sqlite_store import Store

log = logging.getLogger(__name__)

SIGLIP_PREPROCESS = {"mean": (0.5,) * 3, "std": (0.5,) * 3, "interpolation": "bicubic", "resize_mode": "squash"}
RANDOM_WARNING = (
    "the image encoder {name} has RANDOM weights (seed {seed}): distractors mined with random weights are NOT "
    "meaningful; "
    "for the benchmark itself, build with the real weights (the default, --encoder-weights webli)."
)


class EncoderError(SpineBenchError):
    """The image encoder cannot be built: unknown model, weights missing, unreadable or not matching the model."""


class RandomWeightsWarning(UserWarning):
    """The encoder has random weights: its similarities, hence the distractors, carry no meaning."""


class ImageEncoder:
    """The image tower of an open_clip model; `encode` gives L2-normalised float32 embeddings.

    Args:
        name: an open_clip model name.
        weights: a pretrained tag of the model (read from the Hugging Face cache, downloaded when missing), a local
            checkpoint file (the whole model's or the image tower's), or "random" (seeded: for tests and demos).
        device: where the tower runs (default: CUDA when available, else the CPU).
        batch_size: images per forward pass in `encode`.
        seed: seeds the initialisation of the weights (all of them, with "random").
        cache_dir: the Hugging Face cache folder of pretrained weights (default: the standard one).
        threads: threads that decode and preprocess a batch's images.

    Raises:
        EncoderError: the model name is unknown, or the weights are missing (and cannot be downloaded), unreadable
            or do not fit the model's image tower.

    Warns:
        RandomWeightsWarning: `weights` is "random": the similarities, hence the distractors, mean nothing.
    """

    def __init__(
        self,
        name: str = "ViT-B-16-SigLIP2",
        weights: str = "webli",
        device: str | None = None,
        batch_size: int = 32,
        seed: int = 0,
        cache_dir: str | None = None,
        threads: int = 1,
    ):
        check_model_name(name)
        self.name, self.weights, self.batch_size = name, weights, batch_size
        self.threads, self._pool = max(1, threads), None
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        tag_cfg = open_clip.get_pretrained_cfg(name, weights) if weights != "random" else {}
        checkpoint = fetch_checkpoint(name, weights, tag_cfg, cache_dir) if tag_cfg else None
        weights_file = None if tag_cfg or weights == "random" else existing_file(name, weights)
        visual = build_tower(name, seed, checkpoint, preprocess_for(name, tag_cfg))
        if weights_file:
            load_tower(visual, weights_file)
        if weights == "random":
            message = RANDOM_WARNING.format(name=name, seed=seed)
            warnings.warn(message, RandomWeightsWarning, stacklevel=2)  # shown once; the demo expects it, says so
        self.weight_hash = tower_hash(visual)
        label = weights_file.name if weights_file else weights
        self.identity = f"{name}|{label}|{self.weight_hash[:16]}"
        self.dim = int(open_clip.get_model_config(name)["embed_dim"])
        self.transform = image_transform_v2(PreprocessCfg(**visual.preprocess_cfg), is_train=False)
        self.visual = visual.to(self.device).eval()

    def encode(self, images: Sequence[Image.Image | bytes]) -> np.ndarray:
        """(N, D) float32, each row L2-normalised; batches of `batch_size`. Images are PIL images or PNG/JPEG bytes."""
        rows = [np.zeros((0, self.dim), np.float32)]
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                batch = torch.stack(self._prepared(images[start : start + self.batch_size]))
                features = self.visual(batch.to(self.device)).float()
                rows.append(F.normalize(features, dim=-1).cpu().numpy())
        return np.concatenate(rows).astype(np.float32, copy=False)

    def _prepare(self, image: Image.Image | bytes) -> torch.Tensor:
        return self.transform(decode(image) if isinstance(image, (bytes, bytearray)) else image)

    def _prepared(self, images: Sequence[Image.Image | bytes]) -> list[torch.Tensor]:
        """Decode and preprocess in `threads` threads (Pillow and torch release the GIL): with a GPU, this host-side
        work, not the forward pass, bounds the throughput."""
        if self.threads == 1 or len(images) < 2:
            return [self._prepare(image) for image in images]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="spinebench-preprocess")
        return list(self._pool.map(self._prepare, images))


def check_model_name(name: str) -> None:
    """Raise EncoderError, with close names, when `name` is not an open_clip model."""
    known = open_clip.list_models()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
        hint = f"close names: {', '.join(close)}" if close else "see open_clip.list_models()"
        raise EncoderError(f"unknown open_clip model '{name}' ({hint})")


def preprocess_for(name: str, tag_cfg: dict) -> dict:
    """The tag's own preprocess, else the model's webli one, else SigLIP's: never open_clip's OpenAI fallback."""
    cfg = tag_cfg or open_clip.get_pretrained_cfg(name, "webli") or SIGLIP_PREPROCESS
    return {key: cfg[key] for key in SIGLIP_PREPROCESS}


class _NoUnpretrainedNote(logging.Filter):
    """Drops open_clip's "No pretrained weights loaded" line: our own warning says it once for random weights, and
    for a weights file it is wrong (the file is loaded right after)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No pretrained weights loaded")


@contextlib.contextmanager
def quiet_unpretrained():
    """`_NoUnpretrainedNote` on the root logger (open_clip logs there) while a model is created, then removed."""
    note = _NoUnpretrainedNote()
    logging.getLogger().addFilter(note)
    try:
        yield
    finally:
        logging.getLogger().removeFilter(note)


def build_tower(name: str, seed: int, checkpoint: str | None, preprocess: dict) -> torch.nn.Module:
    """Create the whole model through open_clip and return its image tower; the text tower is then freed."""
    with torch.random.fork_rng(devices=[]), quiet_unpretrained():  # seeded init, the caller's RNG left alone
        torch.manual_seed(seed)
        try:
            model = open_clip.create_model(name, pretrained=checkpoint, force_preprocess_cfg=preprocess)
        except Exception as error:
            if checkpoint is None:
                raise
            # a cached checkpoint that is corrupt or does not fit (open_clip loads it strictly)
            raise EncoderError(f"{checkpoint}: cannot load it into {name}: {first_line(error)}") from None
    return model.visual


def hub_files(tag_cfg: dict) -> tuple[str, list[str]]:
    """The Hub repo of a pretrained tag and the files open_clip accepts from it, preferred first."""
    repo, filename = os.path.split(tag_cfg.get("hf_hub", ""))
    filename = filename or HF_WEIGHTS_NAME
    if filename == HF_WEIGHTS_NAME:
        return repo, [HF_SAFE_WEIGHTS_NAME, filename]
    if filename.endswith((".bin", ".pth")):
        return repo, [filename[:-4] + ".safetensors", filename]
    return repo, [filename]


def fetch_checkpoint(name: str, tag: str, tag_cfg: dict, cache_dir: str | None) -> str:
    """The local path of a pretrained tag's checkpoint: from the Hub cache, else downloaded; else EncoderError."""
    repo, files = hub_files(tag_cfg)
    for filename in files if repo else []:
        # The cache first: otherwise huggingface_hub retries the Hub for about 45 s on a machine without network.
        cached = try_to_load_from_cache(repo, filename, cache_dir=cache_dir)
        if isinstance(cached, str):
            return cached
    try:
        return open_clip.download_pretrained(tag_cfg, cache_dir=cache_dir)
    except Exception as error:
        log.debug("download of %s %s failed", name, tag, exc_info=True)
        raise EncoderError(missing_weights_message(name, tag, repo, files, cache_dir, error)) from None


def missing_weights_message(
    name: str, tag: str, repo: str, files: list[str], cache_dir: str | None, error: Exception
) -> str:
    """The message for weights neither cached nor downloadable: where they belong, and how to get them there."""
    # Every open_clip 3.3 pretrained tag is hosted on the Hub (`hf_hub`), none only at a URL.
    where = f"{cache_dir or hub_constants.HF_HUB_CACHE}/models--{repo.replace('/', '--')}/snapshots/<revision>/"
    hub_error = str(error).split("Last error: ")[-1].split(". ")[0][:300]
    offline = (
        "HF_HUB_OFFLINE=1 is set" if hub_constants.HF_HUB_OFFLINE else f"the Hub could not be reached: {hub_error}"
    )
    command = repo + (f" --cache-dir {cache_dir}" if cache_dir else "")
    return (
        f"the {name} '{tag}' weights are not in the Hugging Face cache: missing {' or '.join(files)} in {where}, "
        f"and this machine is offline ({offline}). Either download them once on a machine with network: "
        f"`hf download {command}` (huggingface_hub < 1.0: `huggingface-cli download {command}`) and copy the "
        f"cache here, or build with `--encoder-weights random` (seeded random weights: distractors not "
        f"meaningful, for tests) or `--encoder-weights FILE` (a local .safetensors/.bin/.pt checkpoint of "
        f"{name})."
    )


def existing_file(name: str, weights: str) -> Path:
    """`weights` as the path of a checkpoint file; EncoderError, listing the model's tags, when there is none."""
    path = Path(weights).expanduser()
    if not path.is_file():
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(name)) or "none"
        raise EncoderError(
            f"encoder weights '{weights}': no such file, and neither 'random' nor a pretrained tag "
            f"of {name} (tags: {tags})"
        )
    return path


def read_tower_state(path: Path) -> dict[str, torch.Tensor]:
    """The image tower's tensors of a full open_clip checkpoint, or of a tower-only one (`visual.` prefix or not)."""
    try:
        state = load_state_dict(str(path))
    except Exception as error:
        reason = first_line(error).split(". ")[0]
        raise EncoderError(f"{path}: cannot read weights ({type(error).__name__}: {reason})") from None
    if any(key.startswith("visual.") for key in state):
        return {key.removeprefix("visual."): value for key, value in state.items() if key.startswith("visual.")}
    return dict(state)


def load_tower(visual: torch.nn.Module, path: Path) -> None:
    """Load a checkpoint file into the image tower, strictly; EncoderError when its keys or shapes do not match."""
    state = read_tower_state(path)
    expected = set(visual.state_dict())
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        raise EncoderError(
            f"{path}: not weights of this image tower: {len(missing)} missing keys {missing[:3]}, "
            f"{len(unexpected)} unexpected keys {unexpected[:3]}"
        )
    try:
        visual.load_state_dict(state, strict=True)
    except RuntimeError as error:  # same names, other shapes
        raise EncoderError(f"{path}: tensor shapes do not match the image tower: {first_line(error)}") from None


def tower_hash(visual: torch.nn.Module) -> str:
    """sha256 over the tower's tensors: each name, then its raw bytes, in name order."""
    digest = hashlib.sha256()
    for key, tensor in sorted(visual.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def first_line(error: BaseException) -> str:
    """The first two non-empty lines of an error's message, joined, in at most 400 characters."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[:2])[:400]


class EmbeddingCache:
    """Vectors keyed by (encoder identity, image content digest) in one sqlite file (`sqlite_store.Store`); committed
    after each batch."""

    VERSION = 2  # 2: the shared store (one text key); a version-1 file is emptied and refilled

    def __init__(self, path: str | os.PathLike):
        self.store = Store(path, "embeddings", {"vector": "BLOB NOT NULL"}, self.VERSION)

    @staticmethod
    def _key(identity: str, digest: str) -> str:
        return f"{identity}\0{digest}"

    def get_many(self, identity: str, digests: list[str]) -> dict[str, np.ndarray]:
        """digest -> float32 vector of those of `digests` cached under `identity`."""
        found = self.store.get_many([self._key(identity, digest) for digest in digests])
        return {
            key.rsplit("\0", 1)[1]: np.frombuffer(blob, dtype="<f4").astype(np.float32)
            for key, (blob,) in found.items()
        }

    def put_many(self, identity: str, vectors: dict[str, np.ndarray]) -> None:
        """Store `vectors` (digest -> vector) under `identity`, as little-endian float32."""
        self.store.put_many(
            (self._key(identity, digest), np.asarray(vector, dtype="<f4").tobytes())
            for digest, vector in vectors.items()
        )

    def __len__(self) -> int:
        return len(self.store)

    def close(self) -> None:
        """Close the sqlite file."""
        self.store.close()


def content_digest(png_bytes: bytes) -> str:
    """sha256 hex of the standardized image's bytes: the cache key, whatever the image is called."""
    return hashlib.sha256(png_bytes).hexdigest()


def embed(
    encoder: ImageEncoder,
    cache: EmbeddingCache | None,
    items: Iterable[tuple[str, bytes]],
    batch_size: int | None = None,
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (image_id, vector) in input order, encoding only the batches the cache does not hold.

    An image's embedding differs by ~1e-7 with the other images in its batch (the kernels depend on the batch
    shape), and such a difference can flip a distractor. So the cache keys each vector by its batch too: the input
    is cut into fixed batches, a batch is encoded whole unless the cache holds it, and a build then gives the same
    bytes whether its embeddings are fresh, resumed or cached.

    Args:
        encoder: the image encoder; its `identity` is part of every cache key.
        cache: the embedding cache (None: an in-memory one, for this call only).
        items: (image_id, standardized image bytes) pairs.
        batch_size: images per cached batch (default: the encoder's `batch_size`).

    Yields:
        (image_id, L2-normalised float32 vector), one per item, in input order.
    """
    cache = cache if cache is not None else EmbeddingCache(":memory:")  # still dedups within the call
    items, size = iter(items), batch_size or encoder.batch_size
    while chunk := list(islice(items, size)):
        digests = [content_digest(data) for _, data in chunk]
        unique = dict(zip(digests, (data for _, data in chunk)))  # first occurrence order
        identity = f"{encoder.identity}|batch:{hashlib.sha256(''.join(unique).encode()).hexdigest()[:16]}"
        vectors = cache.get_many(identity, list(unique))
        if len(vectors) < len(unique):
            vectors = dict(zip(unique, encoder.encode(list(unique.values()))))
            cache.put_many(identity, vectors)
        for (image_id, _), digest in zip(chunk, digests):
            yield image_id, vectors[digest]


def decode(png_bytes: bytes) -> Image.Image:
    """PNG (or JPEG) bytes as an RGB PIL image."""
    with Image.open(io.BytesIO(png_bytes)) as image:
        return image.convert("RGB")
