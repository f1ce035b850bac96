"""`spinebench demo`: the whole pipeline on a fresh machine, offline, in a few minutes on 2 CPU cores.

Synthetic archives in the four real formats → `spinebench build` (a seeded random-weight SigLIP2 encoder) → the
three weight-free baselines evaluated through lighteval (`spinebench eval custom ...`) → the paper's table. The
numbers say nothing about medicine: the images are drawn and the distractors mined with random weights.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

from .construction.pipeline import BuildOptions, build
from .embedding.encoder import RandomWeightsWarning
from .errors import SpineBenchError
from .evaluation.lighteval_models import model_file
from .report.tables import paper_table, report_of_runs
from .schema import SYNTHETIC_NOTE
from .sources.synthetic import write_samples

DEMO_ENCODER = "ViT-B-32-SigLIP2-256"  # the smallest SigLIP2: the demo's 2-core budget, same code path as B/16
TASKS = "spinebench:diagnosis|0,spinebench:localization|0"
BASELINES = {"random": "random_baseline", "healthy": "healthy_baseline", "nearest-neighbour": "nearest_neighbour"}
BANNER = SYNTHETIC_NOTE


def evaluate(label: str, file: str, data: Path, output: Path) -> Path:
    """Run one baseline through lighteval in a fresh process; return its results file."""
    env = dict(
        os.environ,
        SPINEBENCH_DATA=str(data),
        SPINEBENCH_ENCODER=DEMO_ENCODER,
        SPINEBENCH_ENCODER_WEIGHTS="random",
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
    )
    command = [
        sys.executable,
        "-m",
        "spinebench_hf.cli",
        "eval",
        "custom",
        label,
        str(model_file(file)),
        TASKS,
        "--custom-tasks",
        "spinebench_hf.evaluation.lighteval_task",
        "--output-dir",
        str(output),
        "--save-details",
    ]
    output.mkdir(parents=True, exist_ok=True)
    with open(output / "lighteval.log", "w") as log:
        done = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode:
        tail = (output / "lighteval.log").read_text()[-3000:]
        raise SpineBenchError(f"lighteval failed for the {label} baseline (log: {output / 'lighteval.log'}):\n{tail}")
    return max(output.rglob("results_*.json"), key=lambda path: path.stat().st_mtime)


def build_synthetic(sources: dict[str, str], data: Path, output: Path, seed: int) -> None:
    """`spinebench build` of the drawn archives with the demo's small random-weight encoder, marked synthetic."""
    build(
        BuildOptions(
            sources=sources,
            output=data,
            seed=seed,
            encoder=DEMO_ENCODER,
            encoder_weights="random",
            max_side=256,
            cache_dir=output / "cache",
            progress=True,
            synthetic=True,
        )
    )


def run_demo(output: Path, *, per_source: int = 24, seed: int = 0) -> tuple[str, Path]:
    """The demo's paper table, and its HTML report."""
    output = Path(output)
    sources = {
        name: str(path) for name, path in write_samples(output / "archives", seed=seed, per_source=per_source).items()
    }
    data = output / "spinebench"
    with warnings.catch_warnings():  # random weights are what a demo uses: its banner says so, not a warning
        warnings.simplefilter("ignore", RandomWeightsWarning)
        build_synthetic(sources, data, output, seed)
    for label, file in BASELINES.items():
        evaluate(label, file, data, output / "results" / label)
    results = [output / "results"]
    scored, report = report_of_runs(results, output / "report")  # says SYNTHETIC: the build report does
    table = paper_table(scored, banner=BANNER)
    (output / "results.md").write_text(f"{table}\n")
    return table, report.with_suffix(".html")
