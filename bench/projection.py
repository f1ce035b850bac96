"""(f) The projected time of a full build, on 2 cores and with one GPU, from the measured per-image costs.

Reads bench/results/{standardize,embedding,mining,build_scale}.json (run those first) and multiplies each stage's
measured cost per image by the image counts of the real sources (docs/sources.md; RSNA as an upper bound).

    python bench/projection.py [--gpu-forward-ms 1.0] [--gpu-box-cores 16]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_JSON, record, table  # noqa: E402

# source -> (images, the standardize.py case with the same format and size, where the count comes from)
SOURCES = {
    "BUU-LSPINE": (7_200, "JPEG 2500×3000 grey (BUU-like)", "3,600 patients × AP + LA (docs/sources.md §1.1)"),
    "CSXA": (4_963, "PNG 1800×2200 grey (CSXA-like)", "4,963 PNGs (docs/sources.md §2.1)"),
    "VinDr-SpineXR": (
        10_466,
        "JPEG 2000 Lossless",
        "10,466 DICOMs (PhysioNet page; docs/sources.md §4.1), "
        "JPEG 2000 Lossless as the real files (docs/sources.md §6)",
    ),
    "RSNA 2024": (
        48_688,
        "MR 512×512, 12-bit stored, MONOCHROME2",
        "at most one image per row of "
        "train_label_coordinates.csv (docs/paper.md §1); several rows share a slice, so fewer; transfer "
        "syntax undocumented, costed as uncompressed",
    ),
}


def load(name: str) -> dict:
    path = RESULTS_JSON / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python bench/{name}.py` first")
    return json.loads(path.read_text())


def case_cost(cases: list[dict], pattern: str) -> float:
    """Mean of our per-image seconds over the cases whose name contains `pattern`."""
    found = [case["ours_s"] for case in cases if pattern in case["case"]]
    if not found:
        raise SystemExit(f"no standardize case matches {pattern!r}: re-run bench/standardize.py")
    return sum(found) / len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gpu-forward-ms",
        type=float,
        default=1.0,
        help="assumed image-tower forward per image on the GPU (not measurable here)",
    )
    parser.add_argument("--gpu-box-cores", type=int, default=16, help="CPU cores beside the GPU")
    args = parser.parse_args()
    standardize, embedding, mining, scale = (load(n) for n in ("standardize", "embedding", "mining", "build_scale"))
    stage = {s["num_proc"]: s["ours_s"] for s in standardize["stage"]}
    efficiency = stage[1] / stage[2] / 2  # measured speed-up of 2 processes, per process
    images = sum(count for count, _, _ in SOURCES.values())
    serial_s = sum(count * case_cost(standardize["cases"], case) for count, case, _ in SOURCES.values())
    # What the build adds per image beyond decoding and embedding: reading the archives and writing the parquet,
    # from the largest build_scale run (its images are smaller than real ones, so its parquet is too).
    largest = scale["results"][-1]["cold"]
    rest_s = (largest["stage_s"]["collect"] + largest["stage_s"]["write_dataset"]) / largest["images"]
    mining_s = mining["make_items_s"] * images / mining["images"]
    host_s, cpu_embed_s = embedding["host_s_per_image"], embedding["ours_s_per_image"]

    def plan(cores: int, embed_s_per_image: float) -> dict[str, float]:
        return {
            "standardize": serial_s / (cores * efficiency if cores > 1 else 1),
            "embed": images * embed_s_per_image,
            "rest": images * rest_s,
            "mining": mining_s,
        }

    forward_s = args.gpu_forward_ms / 1e3
    host_2_s = embedding["host_s_per_image_2_threads"]
    host_box_s = host_s / (args.gpu_box_cores * efficiency)  # preprocessing threads, at the measured efficiency
    plans = {
        "2 CPU cores, no GPU (this machine)": plan(2, cpu_embed_s),
        "1 GPU + 2 CPU cores": plan(2, max(forward_s, host_2_s)),
        f"1 GPU + {args.gpu_box_cores} CPU cores": plan(args.gpu_box_cores, max(forward_s, host_box_s)),
    }
    hours = lambda s: s / 3600  # noqa: E731
    source_rows = [[name, f"{count:,}", case, where] for name, (count, case, where) in SOURCES.items()]
    plan_rows = [
        [name, hours(p["standardize"]), hours(p["embed"]), hours(p["rest"] + p["mining"]), hours(sum(p.values()))]
        for name, p in plans.items()
    ]
    body = (
        "Images per source (the counts of the real archives):\n\n"
        + table(["source", "images", "cost taken from (a)", "count"], source_rows)
        + f"\n\nTotal {images:,} images. Per image, measured: standardization {serial_s / images * 1e3:.0f} ms "
        + f"(mean over the sources, one process; two processes run at {efficiency:.0%} efficiency each), "
        + f"{embedding['model']} on the CPU {cpu_embed_s * 1e3:.0f} ms, its host side (PNG decode + "
        + f"preprocess) {host_s * 1e3:.1f} ms in one thread, {host_2_s * 1e3:.1f} ms in two, reading the archives "
        + f"and writing the parquet {rest_s * 1e3:.1f} ms; "
        + f"`make_items` {mining_s:.1f} s in all. Not measurable here (no GPU lent): the image tower's forward "
        + f"on a GPU, taken as {args.gpu_forward_ms:g} ms per image (ViT-B/16 at 224 px is about 35 GFLOP "
        + "per image in fp32), so with a GPU the host-side preprocessing bounds the embedding.\n\n"
        + table(["machine", "standardize (h)", "embed (h)", "rest + mining (h)", "total (h)"], plan_rows)
        + "\n\nThe GPU rows assume the measured 2-process efficiency holds for more processes; RSNA is counted "
        + "at its upper bound."
    )
    record(
        "projection",
        "(f) Projected full build",
        body,
        {
            "images": images,
            "plans_s": plans,
            "efficiency": efficiency,
            "rest_s_per_image": rest_s,
            "gpu_forward_ms_assumed": args.gpu_forward_ms,
        },
    )


if __name__ == "__main__":
    main()
