"""(e) Build wall time and peak memory for 1k, 2k and 4k images: memory must stay flat.

Each size gets synthetic archives in the four real formats (images 512×416, so that decoding and PNG writing are
real work) and runs `spinebench build` in a fresh process with a cold cache, then again with the warm cache (a
resumed or repeated build). The encoder is the tests' tiny open_clip model: the real encoder's cost per image is
measured by bench/embedding.py and added by bench/projection.py; here it would only hide the rest. Peak memory is
the build process's maximum resident set (and, with --num-proc > 1, its largest worker's).

    python bench/build_scale.py [--sizes 1000 2000 4000] [--num-proc 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH, peak_rss_mib, record, table, verdict  # noqa: E402

IMAGE_SIZE = (512, 416)
FLAT_GOAL = 0.10  # peak memory may grow by at most 10% from the smallest to the largest build


def one_build(samples: Path, output: Path, cache: Path, num_proc: int) -> dict:
    """Run in the child process: the build, timed, with its own peak memory."""
    sys.path.insert(0, str(BENCH.parent / "tests"))
    from tiny_clip import register_tiny_model

    import spinebench_hf.construction.pipeline as build_module
    from spinebench_hf.cli import main as spinebench

    stage_s = time_stages(build_module)

    sources = {
        "buu": "BUU-LSPINE_400.zip",
        "csxa": "CSXA",
        "rsna": "rsna-2024-lumbar-spine-degenerative-classification.zip",
        "vindr": "vindr-spinexr-1.0.0.tar.gz",
    }
    argv = [
        "build",
        "--output",
        str(output),
        "--cache-dir",
        str(cache),
        "--encoder",
        register_tiny_model(),
        "--encoder-weights",
        "random",
        "--num-proc",
        str(num_proc),
    ]
    for name, file in sources.items():
        argv += [f"--{name}", str(samples / file)]
    start = time.perf_counter()
    code = spinebench(argv)
    wall = time.perf_counter() - start
    report = json.loads((output / "build_report.json").read_text())
    return {
        "exit": code,
        "wall_s": wall,
        "stage_s": stage_s,
        "self_rss_mib": peak_rss_mib(),
        "workers_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "images": sum(source["images"] for source in report["sources"].values()),
        "questions": report["questions"],
    }


# label in the results -> the stage function in spinebench_hf/construction/pipeline.py
STAGES = {
    "collect": "read_all",
    "standardize_all": "standardize_all",
    "embed_all": "embed_all",
    "make_items": "make_items",
    "write_dataset": "write_dataset",
}


def time_stages(module) -> dict[str, float]:
    """Wrap the build's stage functions (looked up by name in the pipeline) so that each records its seconds."""
    stage_s: dict[str, float] = {}
    for label, name in STAGES.items():
        setattr(module, name, timed_stage(getattr(module, name), label, stage_s))
    return stage_s


def timed_stage(stage, label: str, stage_s: dict[str, float]):
    """`stage`, recording its seconds in `stage_s[label]` at each call."""

    def timed(*args, **kwargs):
        start = time.perf_counter()
        result = stage(*args, **kwargs)
        stage_s[label] = time.perf_counter() - start
        return result

    return timed


def run_child(samples: Path, output: Path, cache: Path, num_proc: int) -> dict:
    command = [sys.executable, __file__, "--child", str(samples), str(output), str(cache), str(num_proc)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"build failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    parser.add_argument("--num-proc", type=int, default=1)
    args = parser.parse_args()
    from spinebench_hf.sources.synthetic import write_samples

    results = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            write_samples(folder / "samples", per_source=size // 4, size=IMAGE_SIZE)
            cold = run_child(folder / "samples", folder / "out", folder / "cache", args.num_proc)
            warm = run_child(folder / "samples", folder / "out", folder / "cache", args.num_proc)
        results.append({"target": size, "cold": cold, "warm": warm})
        print(f"{size}: {cold}\n      warm {warm}", flush=True)
    first, last = results[0]["cold"], results[-1]["cold"]
    # RUSAGE_CHILDREN has the same flaw as ru_maxrss (see peak_rss_mib); with one process it only sees short helpers
    # (ctypes runs ldconfig), so worker memory is shown with --num-proc > 1 only, as an upper bound.
    peak = lambda r: max(r["self_rss_mib"], r["workers_rss_mib"] if args.num_proc > 1 else 0)  # noqa: E731
    growth = peak(last) / peak(first) - 1
    slope = (peak(last) - peak(first)) / max(1, last["images"] - first["images"]) * 1000  # MiB per 1k images
    rows = [
        [
            r["cold"]["images"],
            sum(r["cold"]["questions"].values()),
            r["cold"]["wall_s"],
            r["cold"]["wall_s"] / r["cold"]["images"] * 1e3,
            r["warm"]["wall_s"],
            r["cold"]["self_rss_mib"],
            r["warm"]["self_rss_mib"],
        ]
        + ([r["cold"]["workers_rss_mib"]] if args.num_proc > 1 else [])
        for r in results
    ]
    body = (
        f"Synthetic archives of the four sources (zip, xlsx + two zips, zip, tar.gz), images {IMAGE_SIZE[1]}×"
        f"{IMAGE_SIZE[0]}, tiny random encoder, --num-proc {args.num_proc}, cold cache then warm cache.\n\n"
        + table(
            [
                "images",
                "questions",
                "cold build (s)",
                "ms per image",
                "warm rebuild (s)",
                "peak RSS (MiB)",
                "warm peak RSS (MiB)",
            ]
            + (["largest worker (MiB)"] if args.num_proc > 1 else []),
            rows,
        )
        + "\n\nStages of the largest cold build, ms per image: "
        + ", ".join(f"{name} {last['stage_s'][name] / last['images'] * 1e3:.1f}" for name in STAGES)
        + " (standardize_all and embed_all are small images and a tiny encoder here; (a) and (b) measure them "
        + "at full size). Before this change the shards were written from the memory-mapped Arrow cache "
        + "(`as_dataset().to_parquet()`), whose pages counted in the peak: it grew by about 240 MiB per 1,000 "
        + "images; now datasets writes the parquet itself, batch by batch."
        + f"\n\nGoal memory flat: {verdict(growth <= FLAT_GOAL)}: peak grows {growth:+.1%} from "
        + f"{first['images']:,} to {last['images']:,} images ({slope:+.1f} MiB per 1,000 images)."
    )
    record(
        "build_scale",
        "(e) Build time and peak memory by size",
        body,
        {
            "results": results,
            "growth": growth,
            "mib_per_1k_images": slope,
            "goal": FLAT_GOAL,
            "met": growth <= FLAT_GOAL,
            "image_size": IMAGE_SIZE,
        },
        ("datasets", "pyarrow", "torch"),
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        samples, output, cache, num_proc = sys.argv[2:6]
        print(json.dumps(one_build(Path(samples), Path(output), Path(cache), int(num_proc))))
    else:
        main()
