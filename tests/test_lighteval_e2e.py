"""End to end through the real lighteval CLI, offline: a built fixture dataset, a tiny random-weight VLM, one
process (`spinebench eval`) and two data-parallel processes (stock `lighteval` under torchrun)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pandas as pd
import pytest

from spinebench_hf.build import BuildOptions, build
from spinebench_hf.metrics import overall
from spinebench_hf.synthetic import write_samples
from test_harness import ROOT, torchrun
from tiny_clip import register_tiny_model
from tiny_vlm import build as build_vlm

TASKS = "spinebench:diagnosis|0,spinebench:localization|0"
METRICS = {"spinebench:diagnosis|0": {"acc", "format_compliance"},
           "spinebench:localization|0": {"acc", "precision", "recall", "f1", "jaccard", "format_compliance"}}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    sources = {k: str(v) for k, v in write_samples(root / "archives", per_source=8).items()}
    with pytest.warns(UserWarning):
        build(BuildOptions(sources=sources, output=root / "data", encoder=register_tiny_model(),
                           encoder_weights="random", max_side=64, cache_dir=root / "cache"))
    build_vlm(str(root / "vlm"))
    return root


def lighteval_args(root: Path, name: str) -> list[str]:
    model = root / f"model-{name}"  # a copy per run: lighteval caches generations inside an absolute model path
    shutil.copytree(root / "vlm", model)
    return ["accelerate", f"model_name={model},generation_size=12,batch_size=3", TASKS,
            "--custom-tasks", str(ROOT / "tasks" / "spinebench.py"), "--vision-model",
            "--output-dir", str(root / f"out-{name}"), "--save-details"]


def env(root: Path) -> dict:
    return {"SPINEBENCH_DATA": str(root / "data"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "HF_HOME": str(root / "hf-home")}


def details(out: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted(out.rglob("details_*.parquet")):
        for _, row in pd.read_parquet(path).iterrows():
            specific = row["doc"]["specific"]
            assert specific["id"] not in rows, f"{specific['id']} answered twice"
            assert row["doc"]["query"] in row["model_response"]["input"]  # the response belongs to this question
            rows[specific["id"]] = {"text": list(row["model_response"]["text"]), "metric": dict(row["metric"]),
                                    "stage": specific["extraction_stage"], "reply": specific["reply"],
                                    "extracted": list(specific["extracted"])}
    return rows


@pytest.fixture(scope="module")
def runs(setup):
    single = subprocess.run([sys.executable, "-m", "spinebench_hf.cli", "eval", *lighteval_args(setup, "single")],
                            capture_output=True, text=True, timeout=900, env=dict(os.environ, **env(setup)))
    assert single.returncode == 0, single.stderr[-3000:]
    lighteval = shutil.which("lighteval", path=str(Path(sys.executable).parent))
    parallel = torchrun([lighteval, *lighteval_args(setup, "parallel")], env=env(setup), timeout=900)
    assert parallel.returncode == 0, parallel.stderr[-3000:]
    return {"single": setup / "out-single", "parallel": setup / "out-parallel"}


def test_results_hold_every_metric(runs):
    for out in runs.values():
        (results_file,) = out.rglob("results_*.json")
        results = json.loads(results_file.read_text())["results"]
        for task, names in METRICS.items():
            assert names <= set(results[task]), (task, results[task])
        # lighteval's group row averages the two tasks' acc: that is the paper's Overall
        diagnosis, localization = (results[task]["acc"] for task in METRICS)
        assert results["spinebench:_average|0"]["acc"] == pytest.approx(overall(diagnosis, localization))


def test_every_question_once_with_its_record(runs, setup):
    single = details(runs["single"])
    expected = {config: set(datasets.load_dataset(str(setup / "data"), config, split="sub")["id"])
                for config in ("diagnosis", "localization")}
    assert set(single) == expected["diagnosis"] | expected["localization"]
    for record in single.values():
        assert record["stage"] in ("marker", "option_text", "none") and isinstance(record["reply"], str)
        assert record["text"] == [record["reply"]]  # the VLM text arrives as a list (lighteval_compat fix 4)


def test_data_parallel_gives_the_single_process_results(runs):
    single, parallel = details(runs["single"]), details(runs["parallel"])
    assert set(single) == set(parallel)
    assert {k: (v["text"], v["metric"]) for k, v in single.items()} == {k: (v["text"], v["metric"]) for k, v in parallel.items()}
