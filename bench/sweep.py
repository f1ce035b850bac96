"""(g) Sweep throughput, whole process: `spinebench sweep` against a server that answers after a fixed latency.

A dataset of the paper's Sub size (N = 1,758 diagnosis + 1,000 localization questions, tiny images) and a local
server (tests/openai_server.py) answering every request after L seconds, as a model server busy decoding would. At
concurrency C the requests cannot finish before ceil(N/C)·L. Measured from the server's log: when the first request
arrived after the process started, and the span from the first request to the last answer; and the whole process's
wall time (start, requests, details, report). Goals: span <= 1.05 × ceil(N/C)·L and wall <= 1.10 × ceil(N/C)·L + 2 s.
The response cache's cost per request (a lookup and a committed write) is timed on its own.

    python bench/sweep.py [--latency 0.25] [--concurrency 8 32]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH, record, table, verdict  # noqa: E402

from spinebench_hf.evaluation.model_servers import answers, free_port  # noqa: E402
from spinebench_hf.evaluation.response_cache import ResponseCache, reply_key  # noqa: E402

SPAN_GOAL, WALL_GOAL, WALL_SLACK_S = 1.05, 1.10, 2.0
SUB = {"diagnosis": 1758, "localization": 1000}
SERVER = BENCH.parent / "tests" / "openai_server.py"
DISEASES = ["Healthy", "Osteophytes", "Disc space narrowing", "Vertebral collapse", "Foraminal stenosis"]
LEVELS = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]


def write_dataset(folder: Path) -> None:
    """A dataset folder of the Sub's size: every question on one tiny image, all of them in `sub`."""
    from spinebench_hf.construction.dataset_folder import DatasetWriter, files_and_fingerprint

    image = folder.parent / "image.png"
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (90, 90, 90)).save(buffer, "PNG")
    image.write_bytes(buffer.getvalue())
    folder.mkdir(parents=True)
    writer = DatasetWriter(folder)
    for config, count in SUB.items():
        options = DISEASES if config == "diagnosis" else LEVELS
        for index in range(count):
            writer.add(
                config,
                {
                    "id": f"{config}/{index}",
                    "image_id": f"img/{index}",
                    "task": config,
                    "question": "Which?",
                    "options": options,
                    "answer": ["B"],
                    "answer_text": [options[1]],
                    "disease": DISEASES[1] if config == "diagnosis" else "Spinal canal stenosis",
                    "diseases": [DISEASES[1]] if config == "diagnosis" else ["Spinal canal stenosis"],
                    "levels": [] if config == "diagnosis" else [LEVELS[1]],
                    "source": "buu",
                    "modality": "X-ray",
                    "view": "lateral",
                    "patient_id": str(index),
                    "study_id": str(index),
                    "option_similarity": [],
                    "sub": True,
                    "train": False,
                    "image_path": str(image),
                },
                image.stat().st_size,
            )
    files, fingerprint = files_and_fingerprint(writer.finish())
    (folder / "build_report.json").write_text(json.dumps({"spinebench_hf": "bench", "fingerprint": fingerprint}))


def whole_sweep(data: Path, folder: Path, latency: float, concurrency: int) -> dict:
    port, log = free_port(), folder / f"server-{concurrency}.log"
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(port), "--latency", str(latency), "--log", str(log)]
    )
    try:
        while not answers(f"http://127.0.0.1:{port}/v1/models"):
            time.sleep(0.1)
        sweep = folder / f"SWEEP-{concurrency}.yaml"
        sweep.write_text(
            json.dumps(
                {
                    "dataset": str(data),
                    "tasks": ["spinebench:diagnosis", "spinebench:localization"],
                    "models": [
                        {
                            "name": "bench",
                            "backend": "openai",
                            "model": "m",
                            "retries": 0,
                            "base_url": f"http://127.0.0.1:{port}/v1",
                            "concurrency": concurrency,
                        }
                    ],
                }
            )
        )
        start = time.time()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "spinebench_hf.cli",
                "sweep",
                str(sweep),
                "--output",
                str(folder / f"out-{concurrency}"),
            ],
            capture_output=True,
            text=True,
            env=dict(os.environ, HF_HUB_OFFLINE="1"),
        )
        wall = time.time() - start
    finally:
        server.kill()
    if done.returncode != 0:
        raise SystemExit(f"the sweep failed ({done.returncode}):\n{done.stderr[-3000:]}")
    answered = [json.loads(line)["time"] for line in log.read_text().splitlines()]  # logged as each answer leaves
    first_arrival = min(answered) - latency
    requests = sum(SUB.values())
    floor = math.ceil(requests / concurrency) * latency
    return {
        "requests": requests,
        "answered": len(answered),
        "latency_s": latency,
        "concurrency": concurrency,
        "first_request_s": first_arrival - start,
        "span_s": max(answered) - first_arrival,
        "wall_s": wall,
        "floor_s": floor,
        "span_ratio": (max(answered) - first_arrival) / floor,
    }


def cache_cost(count: int = 2000) -> dict:
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55")
    with tempfile.TemporaryDirectory() as folder:
        cache = ResponseCache(Path(folder) / "responses.sqlite")
        keys = [
            reply_key("fingerprint", f"q{i}", "model", {"max_new_tokens": 1024}, "prompt" * 200, png)
            for i in range(count)
        ]
        start = time.perf_counter()
        for key in keys:
            cache.put(key, "model", "item", "My final option: [A]" * 20, 12)
        put_s = (time.perf_counter() - start) / count
        start = time.perf_counter()
        cache.get_many(keys)
        get_s = (time.perf_counter() - start) / count
        cache.close()
    return {"put_ms": put_s * 1e3, "get_ms": get_s * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        write_dataset(Path(folder) / "data")
        runs = [whole_sweep(Path(folder) / "data", Path(folder), args.latency, c) for c in args.concurrency]
    cost = cache_cost()
    span_met = all(r["span_ratio"] <= SPAN_GOAL for r in runs)
    wall_met = all(r["wall_s"] <= WALL_GOAL * r["floor_s"] + WALL_SLACK_S for r in runs)
    body = (
        f"`spinebench sweep` in a fresh process: {runs[0]['requests']:,} questions (the paper's Sub: "
        f"{SUB['diagnosis']:,} diagnosis + {SUB['localization']:,} localization, both tasks in one queue) to a "
        f"local server answering after {args.latency:g} s each; the floor is ceil(N/C)·L.\n\n"
        + table(
            [
                "concurrency",
                "answered",
                "first request after (s)",
                "request span (s)",
                "floor (s)",
                "span / floor",
                "whole process (s)",
                "wall goal (s)",
            ],
            [
                [
                    r["concurrency"],
                    r["answered"],
                    r["first_request_s"],
                    r["span_s"],
                    r["floor_s"],
                    r["span_ratio"],
                    r["wall_s"],
                    WALL_GOAL * r["floor_s"] + WALL_SLACK_S,
                ]
                for r in runs
            ],
        )
        + f"\n\nGoals: request span <= {SPAN_GOAL} × floor: {verdict(span_met)}; whole process <= {WALL_GOAL} × "
        + f"floor + {WALL_SLACK_S:g} s (start, requests, details, report): {verdict(wall_met)}.\n\n"
        + "The sweep imports neither torch nor lighteval for an API model (tests/test_sweep.py checks it with "
        + "`-X importtime`); the questions are read from the parquet files with pyarrow. The server sets "
        + "TCP_NODELAY, as uvicorn (vLLM's server) does.\n\n"
        + f"Response cache per request: a committed write {cost['put_ms']:.2f} ms, a lookup {cost['get_ms']:.3f} ms "
        + "(sqlite, WAL). Both are paid on the main thread while the requests run in the pool."
    )
    record(
        "sweep",
        "(g) Sweep throughput and the response cache",
        body,
        {"runs": runs, "cache": cost, "span_goal": SPAN_GOAL, "wall_goal": WALL_GOAL, "met": span_met and wall_met},
        ("openai",),
    )


if __name__ == "__main__":
    main()
