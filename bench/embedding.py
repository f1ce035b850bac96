"""(b) Embedding throughput against bare open_clip `encode_image` at the same batch size.

Ours is the build's embedding stage: `encoder.embed` over standardized PNG bytes (content digests, the sqlite
cache, batches of `--batch-size`, decode + SigLIP preprocessing + the image tower + L2 norm). The floor is bare
open_clip: `create_model_and_transforms` with the same preprocessing, then per batch Pillow decode + preprocess +
`model.encode_image` under `torch.inference_mode()`, normalised. Both start from the same seed, so the weights are
the same and the vectors are checked to agree. Random weights: the speed of a tower does not depend on its values.
Goal: ours / floor throughput >= 0.9.

    python bench/embedding.py [--model ViT-B-16-SigLIP2] [--batch-size 32] [--batches 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record, seconds, side_by_side, table, verdict  # noqa: E402

from spinebench_hf.embedding.encoder import EmbeddingCache, ImageEncoder, RandomWeightsWarning, embed  # noqa: E402
from spinebench_hf.imaging import encode_png  # noqa: E402
from spinebench_hf.sources.synthetic import draw_spine, to_uint  # noqa: E402

GOAL = 0.9
SIGLIP = {
    "image_mean": (0.5,) * 3,
    "image_std": (0.5,) * 3,
    "image_interpolation": "bicubic",
    "image_resize_mode": "squash",
}


def standardized_pngs(count: int) -> list[bytes]:
    """What the embedding stage reads: 1024-px RGB PNGs as the standardization writes them."""
    return [
        encode_png(Image.fromarray(to_uint(draw_spine(i, "embed", (1024, 820), bend=0.3), 8)).convert("RGB"))
        for i in range(count)
    ]


class Floor:
    def __init__(self, name: str, seed: int, batch_size: int):
        torch.manual_seed(seed)
        self.model, _, self.preprocess = open_clip.create_model_and_transforms(name, **SIGLIP)
        self.model.eval()
        self.batch_size = batch_size

    def __call__(self, pngs: list[bytes]) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for start in range(0, len(pngs), self.batch_size):
                images = [
                    Image.open(io.BytesIO(data)).convert("RGB") for data in pngs[start : start + self.batch_size]
                ]
                batch = torch.stack([self.preprocess(image) for image in images])
                out.append(F.normalize(self.model.encode_image(batch), dim=-1).numpy())
        return np.concatenate(out)


def ours(encoder: ImageEncoder, pngs: list[bytes], batch_size: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as folder:  # a cold cache, as in a first build
        cache = EmbeddingCache(Path(folder) / "embeddings.sqlite")
        vectors = np.stack(
            [v for _, v in embed(encoder, cache, ((str(i), d) for i, d in enumerate(pngs)), batch_size)]
        )
        cache.close()
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ViT-B-16-SigLIP2")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pngs = standardized_pngs(args.batch_size * args.batches)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomWeightsWarning)
        encoders = {
            threads: ImageEncoder(
                args.model, "random", device="cpu", batch_size=args.batch_size, seed=args.seed, threads=threads
            )
            for threads in (1, 2)
        }
    floor = Floor(args.model, args.seed, args.batch_size)
    gap = float(np.abs(ours(encoders[2], pngs, args.batch_size) - floor(pngs)).max())
    if gap > 1e-4:
        raise SystemExit(f"ours and the floor disagree by {gap}: not the same model or preprocessing")
    times = side_by_side(
        {
            "ours": lambda: ours(encoders[1], pngs, args.batch_size),
            "ours, 2 threads": lambda: ours(encoders[2], pngs, args.batch_size),
            "floor": lambda: floor(pngs),
        },
        args.repeats,
    )
    cached = EmbeddingCache(":memory:")
    list(embed(encoders[1], cached, ((str(i), d) for i, d in enumerate(pngs)), args.batch_size))
    cached_s = seconds(
        lambda: list(embed(encoders[1], cached, ((str(i), d) for i, d in enumerate(pngs)), args.batch_size))
    )
    host_s = {t: min(seconds(lambda t=t: encoders[t]._prepared(pngs)) for _ in range(3)) for t in (1, 2)}
    n = len(pngs)
    ratio = times["floor"] / times["ours"]
    rows = [
        ["ours: `embed` (cold cache)", n / times["ours"], times["ours"] / n * 1e3],
        [
            "ours, preprocessing in 2 threads (`--num-proc 2`)",
            n / times["ours, 2 threads"],
            times["ours, 2 threads"] / n * 1e3,
        ],
        ["floor: bare open_clip `encode_image`", n / times["floor"], times["floor"] / n * 1e3],
        ["ours, every batch cached (a resumed build)", n / cached_s, cached_s / n * 1e3],
        ["host side only (PNG decode + preprocess), 1 thread", n / host_s[1], host_s[1] / n * 1e3],
        ["host side only, 2 threads", n / host_s[2], host_s[2] / n * 1e3],
    ]
    body = (
        f"{args.model}, random weights (seed {args.seed}), CPU, torch threads {torch.get_num_threads()}, "
        f"batch size {args.batch_size}, {n} standardized 820×1024 PNGs; median of {args.repeats} alternating "
        f"runs. Ours and the floor agree to {gap:.1e}. The host side is what bounds the embedding on a GPU.\n\n"
        + table(["", "images/s", "ms per image"], rows)
        + f"\n\nGoal ours / floor throughput >= {GOAL}: {verdict(ratio >= GOAL)} ({ratio:.3f}; "
        + f"{times['floor'] / times['ours, 2 threads']:.3f} with 2 preprocessing threads)."
    )
    record(
        "embedding",
        "(b) Embedding vs bare open_clip encode_image",
        body,
        {
            "model": args.model,
            "batch_size": args.batch_size,
            "images": n,
            "ours_s_per_image": times["ours"] / n,
            "floor_s_per_image": times["floor"] / n,
            "cached_s_per_image": cached_s / n,
            "host_s_per_image": host_s[1] / n,
            "host_s_per_image_2_threads": host_s[2] / n,
            "ratio": ratio,
            "goal": GOAL,
            "met": ratio >= GOAL,
        },
        ("torch", "open_clip_torch", "pillow"),
    )


if __name__ == "__main__":
    main()
