"""(c) Option mining for 40,000 images (synthetic embeddings): goal < 1 s.

Mining = the seeded per-disease libraries (`sample_library`), every image's mean similarity to every library
(`disease_similarity`: chunked matrix products, the image itself excluded) and the ranking of each image's
distractors (`rank_distractors`). For reference, the matrix product of the direct method (every image against every
library image, float32), which the mean-vector identity in `mining.py` avoids. The whole `make_items` step
(questions, letters, localization items) is shown too.

    python bench/mining.py [--images 40000] [--dim 768] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record, seconds, table, verdict  # noqa: E402

from spinebench_hf.construction.pipeline import make_items  # noqa: E402
from spinebench_hf.embedding.mining import disease_similarity, rank_distractors, sample_library  # noqa: E402
from spinebench_hf.labels import DISEASES, HEALTHY, LEVELS  # noqa: E402
from spinebench_hf.sources.records import LevelFinding, Record  # noqa: E402

GOAL_S = 1.0
DIRECT = "reference: the direct method's float32 product alone"


def synthetic(count: int, dim: int, seed: int = 0) -> tuple[list[str], dict[str, tuple[str, ...]], np.ndarray]:
    """Image ids, their diseases (a third Healthy, some with two diseases) and unit vectors."""
    rng = np.random.default_rng(seed)
    ids = [f"src/{i:06d}" for i in range(count)]
    diseases = {}
    for image_id in ids:
        if rng.random() < 0.33:
            diseases[image_id] = (HEALTHY,)
        else:
            picked = rng.choice(len(DISEASES), size=1 + int(rng.random() < 0.2), replace=False)
            diseases[image_id] = tuple(DISEASES[i] for i in sorted(picked))
    vectors = rng.standard_normal((count, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return ids, diseases, vectors


def mine(ids: list[str], diseases: dict[str, tuple[str, ...]], vectors: np.ndarray, seed: int = 0) -> list:
    library = sample_library(diseases, seed)
    similarity = disease_similarity(ids, vectors, library)
    return [
        rank_distractors(row, {HEALTHY, *diseases[image_id]}, 3, seed, image_id)
        for image_id, row in zip(ids, similarity)
    ]


def direct_product(ids: list[str], diseases: dict[str, tuple[str, ...]], vectors: np.ndarray) -> np.ndarray:
    library = sample_library(diseases, 0)
    row_of = {image_id: i for i, image_id in enumerate(ids)}
    columns = vectors[[row_of[image_id] for _, image_id in library.columns()]]
    return vectors @ columns.T


def records(ids: list[str], diseases: dict[str, tuple[str, ...]]) -> list[Record]:
    findings = (LevelFinding(DISEASES[0], None, (LEVELS[3],)),)
    return [
        Record("src", image_id[4:], "p", "s", "X-ray", "AP", diseases[image_id], findings if i % 2 else (), None)
        for i, image_id in enumerate(ids)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ids, diseases, vectors = synthetic(args.images, args.dim)
    library = sample_library(diseases, 0)
    similarity = disease_similarity(ids, vectors, library)
    stages = {
        "sample_library": lambda: sample_library(diseases, 0),
        "disease_similarity": lambda: disease_similarity(ids, vectors, library),
        "rank_distractors (every image)": lambda: [
            rank_distractors(row, {HEALTHY, *diseases[i]}, 3, 0, i) for i, row in zip(ids, similarity)
        ],
        "mining, all of the above": lambda: mine(ids, diseases, vectors),
        DIRECT: lambda: direct_product(ids, diseases, vectors),
    }
    times = {name: min(seconds(fn) for _ in range(args.repeats)) for name, fn in stages.items()}
    built = records(ids, diseases)
    make_items_s = min(seconds(lambda: make_items(built, vectors, 0)) for _ in range(args.repeats))
    mining_s = times["mining, all of the above"]
    rows = [[name, value] for name, value in times.items()]
    rows.append(["`make_items` (mining + every question, letters, localization items)", make_items_s])
    body = (
        f"{args.images:,} images, {args.dim}-d unit vectors, {sum(len(m) for m in library.members.values()):,} "
        f"library images over {len(library.members)} diseases; best of {args.repeats}.\n\n"
        + table(["step", "seconds"], rows)
        + f"\n\nGoal mining < {GOAL_S:g} s: {verdict(mining_s < GOAL_S)} ({mining_s:.3f} s, "
        + f"{mining_s / times[DIRECT]:.1f}× the direct method's product alone)."
    )
    record(
        "mining",
        "(c) Option mining, 40,000 images",
        body,
        {
            "images": args.images,
            "dim": args.dim,
            "times_s": times,
            "make_items_s": make_items_s,
            "mining_s": mining_s,
            "goal_s": GOAL_S,
            "met": mining_s < GOAL_S,
        },
    )


if __name__ == "__main__":
    main()
