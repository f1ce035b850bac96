"""End to end through the real lighteval CLI, offline: a built fixture dataset, a tiny random-weight VLM, one
process (`spinebench eval`) and two data-parallel processes (stock `lighteval` under torchrun, fixed by the task
file alone)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, torchrun
from tiny_clip import register_tiny_model
from tiny_vlm import build as build_vlm

from spinebench_hf.metrics import overall

pytestmark = pytest.mark.slow

TASKS = "spinebench:diagnosis|0,spinebench:localization|0"
METRICS = {
    "spinebench:diagnosis|0": {"acc", "format_compliance"},
    "spinebench:localization|0": {"acc", "precision", "recall", "f1", "jaccard", "format_compliance"},
}


# Stock lighteval where it can start: there, its built-in tiny_benchmarks downloads a file from GitHub at import.
# Offline, this launcher stands in for that download with an empty module, then runs lighteval's own CLI; every
# fix of ours comes from the task file it is given.
LIGHTEVAL_ONLINE = """
import sys, types
sys.modules["lighteval.tasks.tasks.tiny_benchmarks"] = types.SimpleNamespace(TASKS_TABLE=[])
from lighteval.__main__ import app
app()
"""


@pytest.fixture(scope="module")
def setup(built):
    build_vlm(str(built / "vlm"))
    return built


def lighteval_args(root: Path, name: str) -> list[str]:
    model = root / f"model-{name}"  # a copy per run: lighteval caches generations inside an absolute model path
    shutil.copytree(root / "vlm", model)
    return [
        "accelerate",
        f"model_name={model},generation_size=12,batch_size=3",
        TASKS,
        "--custom-tasks",
        str(ROOT / "tasks" / "spinebench.py"),
        "--vision-model",
        "--output-dir",
        str(root / f"out-{name}"),
        "--save-details",
    ]


def env(root: Path) -> dict:
    return {
        "SPINEBENCH_DATA": str(root / "data"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(root / "hf-home"),
    }


def details(out: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted(out.rglob("details_*.parquet")):
        for _, row in pd.read_parquet(path).iterrows():
            specific = row["doc"]["specific"]
            assert specific["id"] not in rows, f"{specific['id']} answered twice"
            assert row["doc"]["query"] in row["model_response"]["input"]  # the response belongs to this question
            rows[specific["id"]] = {
                "text": list(row["model_response"]["text"]),
                "metric": dict(row["metric"]),
                "stage": specific["extraction_stage"],
                "reply": specific["reply"],
                "extracted": list(specific["extracted"]),
            }
    return rows


@pytest.fixture(scope="module")
def runs(setup):
    single = subprocess.run(
        [sys.executable, "-m", "spinebench_hf.cli", "eval", *lighteval_args(setup, "single")],
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, **env(setup)),
    )
    assert single.returncode == 0, single.stderr[-3000:]
    launcher = setup / "lighteval_online.py"
    launcher.write_text(LIGHTEVAL_ONLINE)
    parallel = torchrun([str(launcher), *lighteval_args(setup, "parallel")], env=env(setup), timeout=900)
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
    expected = {
        config: set(datasets.load_dataset(str(setup / "data"), config, split="sub")["id"])
        for config in ("diagnosis", "localization")
    }
    assert set(single) == expected["diagnosis"] | expected["localization"]
    for record in single.values():
        assert record["stage"] in ("marker", "option_text", "none") and isinstance(record["reply"], str)
        assert record["text"] == [record["reply"]]  # the VLM text arrives as a list (lighteval_fixes fix 2)


def test_data_parallel_gives_the_single_process_results(runs):
    single, parallel = details(runs["single"]), details(runs["parallel"])
    assert set(single) == set(parallel)
    assert {k: (v["text"], v["metric"]) for k, v in single.items()} == {
        k: (v["text"], v["metric"]) for k, v in parallel.items()
    }


def run_baseline(setup, label, file, extra_env=None, tasks=TASKS, circular=False):
    from spinebench_hf.evaluation.lighteval_models import model_file

    out = setup / f"out-{label}"
    command = [
        sys.executable,
        "-m",
        "spinebench_hf.cli",
        "eval",
        *(["--circular"] if circular else []),
        "custom",
        label,
        str(model_file(file)),
        tasks,
        "--custom-tasks",
        "spinebench_hf.evaluation.lighteval_task",
        "--output-dir",
        str(out),
        "--save-details",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=900, env=dict(os.environ, **env(setup), **(extra_env or {}))
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (results,) = out.rglob("results_*.json")
    return json.loads(results.read_text())["results"]


def test_weight_free_baselines_through_lighteval_score_as_computed(setup):
    from spinebench_hf.evaluation.baseline_rules import random_letters
    from spinebench_hf.metrics import score_diagnosis, score_localization

    rows = {
        c: datasets.load_dataset(str(setup / "data"), c, split="sub").remove_columns("image")
        for c in ("diagnosis", "localization")
    }
    healthy = run_baseline(setup, "healthy", "healthy_baseline")
    names = rows["diagnosis"].features["disease"].names
    share = sum(names[d] == "Healthy" for d in rows["diagnosis"]["disease"]) / len(rows["diagnosis"])
    assert healthy["spinebench:diagnosis|0"]["acc"] == pytest.approx(share)
    assert healthy["spinebench:localization|0"]["acc"] == 0.0
    random = run_baseline(setup, "random", "random_baseline", {"SPINEBENCH_BASELINE_SEED": "5"})
    expected = np.mean(
        [score_diagnosis(random_letters(r["id"], "diagnosis", 5, 5), r["answer"]) for r in rows["diagnosis"]]
    )
    assert random["spinebench:diagnosis|0"]["acc"] == pytest.approx(expected)
    expected = np.mean(
        [
            score_localization(random_letters(r["id"], "localization", 5, 5), r["answer"])["recall"]
            for r in rows["localization"]
        ]
    )
    assert random["spinebench:localization|0"]["recall"] == pytest.approx(expected)
    assert random["spinebench:diagnosis|0"]["format_compliance"] == 1.0


def test_nearest_neighbour_baseline_answers_the_most_similar_class(setup, monkeypatch):
    from lighteval.models.custom.custom_model import CustomModelConfig

    from spinebench_hf.evaluation.baselines import NearestNeighbourBaseline
    from spinebench_hf.evaluation.lighteval_models import model_file
    from spinebench_hf.evaluation.lighteval_task import spinebench_doc
    from spinebench_hf.parsing import parse_final_options

    monkeypatch.setenv("SPINEBENCH_DATA", str(setup / "data"))
    monkeypatch.setenv("SPINEBENCH_ENCODER", register_tiny_model())
    monkeypatch.setenv("SPINEBENCH_ENCODER_WEIGHTS", "random")
    with pytest.warns(UserWarning):
        model = NearestNeighbourBaseline(
            CustomModelConfig(model_name="nn", model_definition_file_path=str(model_file("nearest_neighbour")))
        )
    rows = datasets.load_dataset(str(setup / "data"), "diagnosis", split="sub")
    docs = [spinebench_doc(row, "spinebench:diagnosis") for row in rows]
    vectors = model.encoder.encode([d.images[0] for d in docs])
    for doc, reply, vector in zip(docs, model.replies(docs), vectors):
        similarity = model.similarity(doc.specific["image_id"], vector)
        (letter,) = parse_final_options(reply)
        chosen = doc.specific["options"]["ABCDE".index(letter)]
        assert similarity[chosen] == max(similarity[o] for o in doc.specific["options"] if o in similarity)


def test_circular_and_image_blind_runs(setup):
    from spinebench_hf.report.details import scored_questions
    from spinebench_hf.report.robustness import blind_scores, circular_scores
    from spinebench_hf.report.tables import write_report

    tasks = "spinebench:diagnosis|0,spinebench:diagnosis_circular|0,spinebench:diagnosis_blind|0"
    run_baseline(setup, "random-robust", "random_baseline", tasks=tasks, circular=True)
    scored = scored_questions([setup / "out-random-robust"])
    questions = len(datasets.load_dataset(str(setup / "data"), "diagnosis", split="sub"))
    assert (scored.variant == "circular").sum() == 5 * questions and (scored.variant == "blind").sum() == questions
    (circular,) = circular_scores(scored).to_dict("records")
    assert circular["questions"] == questions and circular["circular_acc"] <= circular["plain_acc"]
    (blind,) = blind_scores(scored).to_dict("records")
    assert blind["questions"] == questions
    text = write_report(scored, setup / "report-robust").read_text()
    assert "## Circular evaluation" in text and "## Image-blind control" in text


def test_the_authors_release_runs_unchanged_and_reports(setup, tmp_path):
    """An imported release through the same tasks on the tiny VLM, then the report: every question once, the
    clustered intervals by image (the release has no studies)."""
    from spinebench_hf.construction.release_import import import_release
    from spinebench_hf.report.details import scored_questions
    from spinebench_hf.report.tables import breakdown
    from spinebench_hf.sources.synthetic import write_release

    options = ["Osteophytes", "Healthy", "Vertebral collapse", "Disc space narrowing", "Foraminal stenosis"]
    evaluation = [
        {
            "image": f"{i}.jpg",
            "question": "What spinal disease does this patient have?",
            "task": "spine_disease_classification",
            "answers": options[i % 5],
            "options": options,
        }
        for i in range(6)
    ]
    evaluation += [
        {
            "image": f"{i}.jpg",
            "question": "Where is the spinal canal stenosis?",
            "task": "spine_lesion_localization",
            "answers": ["L4/L5"],
        }
        for i in range(3)
    ]
    write_release(tmp_path / "release", {"evaluation/test.json": evaluation})
    import_release(tmp_path / "release", tmp_path / "imported")
    args = lighteval_args(setup, "release")
    args[args.index("--output-dir") + 1] = str(tmp_path / "out")
    done = subprocess.run(
        [sys.executable, "-m", "spinebench_hf.cli", "eval", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, **(env(setup) | {"SPINEBENCH_DATA": str(tmp_path / "imported")})),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    scored = scored_questions([tmp_path / "out"])
    assert sorted(scored.task.value_counts().items()) == [("diagnosis", 6), ("localization", 3)]
    assert set(scored.source) == {"unknown"} and set(scored.study_id) == {
        f"release/evaluation/{i}.jpg" for i in range(6)
    }
    by_source = breakdown(scored, "source")
    assert (
        (by_source.ci_low >= 0).all()
        and (by_source.ci_high <= 1).all()
        and (by_source.ci_low < by_source.ci_high).all()
    )


def test_a_sweep_with_the_transformers_backend(setup, tmp_path):
    """A sweep entry with backend transformers: lighteval's own VLM backend on the tiny VLM, under the entry's name."""
    from spinebench_hf.cli import main

    model = tmp_path / "vlm"
    shutil.copytree(setup / "vlm", model)
    sweep = tmp_path / "SWEEP.yaml"
    sweep.write_text(
        json.dumps(
            {
                "dataset": str(setup / "data"),
                "tasks": ["spinebench:localization"],
                "generation": {"max_new_tokens": 12},
                "models": [
                    {"name": "tiny", "backend": "transformers", "model": str(model), "batch_size": 3},
                    {"name": "healthy", "backend": "baseline", "baseline": "healthy"},
                ],
            }
        )
    )
    assert main(["sweep", str(sweep), "--output", str(tmp_path / "out")]) == 0
    rows = pd.read_csv(tmp_path / "out" / "report" / "table.csv")
    assert set(rows.Model) == {"tiny", "healthy"}
    expected = len(datasets.load_dataset(str(setup / "data"), "localization", split="sub"))
    assert len(list((tmp_path / "out" / "details" / "tiny").rglob("details_spinebench:localization*.parquet"))) == 1
    assert sum(len(pd.read_parquet(p)) for p in (tmp_path / "out" / "details" / "tiny").rglob("*.parquet")) == expected
