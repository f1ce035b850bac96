"""A build killed mid-way continues from its cached work and gives the fingerprint of an uninterrupted build."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from spinebench_hf.sources.synthetic import write_samples

pytestmark = pytest.mark.slow  # subprocesses / a whole run

ENCODER = [
    "--encoder",
    "ViT-B-32-SigLIP2-256",
    "--encoder-weights",
    "random",
    "--batch-size",
    "4",
    "--max-side",
    "128",
]


def build_command(sources, output, cache):
    paths = [arg for name, path in sources.items() for arg in (f"--{name}", str(path))]
    return [
        sys.executable,
        "-m",
        "spinebench_hf.cli",
        "build",
        *paths,
        "--output",
        str(output),
        "--cache-dir",
        str(cache),
        *ENCODER,
    ]


def embedded(cache) -> int:
    try:
        with sqlite3.connect(cache / "embeddings.sqlite") as db:
            return db.execute(
                "SELECT COUNT(*) FROM " + db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchone()[0]
            ).fetchone()[0]
    except (sqlite3.Error, TypeError):
        return 0


def test_killed_build_resumes_to_the_same_fingerprint(tmp_path):
    sources = write_samples(tmp_path / "archives", per_source=10)
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore")
    cache = tmp_path / "cache"
    first = subprocess.Popen(
        build_command(sources, tmp_path / "out", cache), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 300
    while embedded(cache) == 0 and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # mid-embedding: some batches committed, the rest not
    first.wait()
    assert first.returncode == -signal.SIGKILL, "the build finished before it could be interrupted"
    done_before = embedded(cache)
    images = {p: p.stat().st_mtime_ns for p in (cache / "images").rglob("*.png")}
    assert 0 < done_before and images and not (tmp_path / "out" / "build_report.json").exists()

    subprocess.run(build_command(sources, tmp_path / "out", cache), env=env, check=True, capture_output=True)
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in images.items())  # standardized images reused
    assert embedded(cache) >= done_before
    resumed = json.loads((tmp_path / "out" / "build_report.json").read_text())

    subprocess.run(
        build_command(sources, tmp_path / "clean", tmp_path / "clean-cache"), env=env, check=True, capture_output=True
    )
    clean = json.loads((tmp_path / "clean" / "build_report.json").read_text())
    assert resumed["fingerprint"] == clean["fingerprint"] and resumed["files"] == clean["files"]
