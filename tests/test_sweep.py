"""`spinebench sweep` against a local fault-injecting OpenAI-compatible server (tests/openai_server.py)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from spinebench_hf.cli import main
from spinebench_hf.evaluation.model_servers import free_port
from spinebench_hf.evaluation.sweep_config import SweepError, load_sweep
from spinebench_hf.report.details import read_details

SERVER = Path(__file__).with_name("openai_server.py")
TASKS = ["spinebench:diagnosis", "spinebench:localization"]


def sweep_file(folder: Path, data: Path, models: list[dict], tasks=TASKS) -> Path:
    path = folder / "SWEEP.yaml"
    path.write_text(
        json.dumps(
            {
                "dataset": str(data),
                "tasks": tasks,
                "generation": {"max_new_tokens": 64, "temperature": 0},
                "models": models,
            }
        )
    )
    return path  # JSON is YAML


def served(port: int, log: Path, **faults) -> dict:
    """A `server` model entry: the sweep starts tests/openai_server.py itself and stops it at the end. Its faults
    are in a file beside the log (`heal` empties it), so that its command, part of its identity, stays the same."""
    faults_file = log.with_name(f"faults-{port}.json")
    seed = faults.pop("seed", 0)  # read once, at the start
    faults_file.write_text(json.dumps(faults))
    return {
        "name": f"served-{port}",
        "backend": "server",
        "model": f"model-{port}",
        "retries": 2,
        "timeout": 10,
        "command": [
            sys.executable,
            str(SERVER),
            "--port",
            str(port),
            f"--log={log}",
            f"--faults={faults_file}",
            f"--seed={seed}",
        ],
        "ready_url": f"http://127.0.0.1:{port}/v1/models",
        "base_url": f"http://127.0.0.1:{port}/v1",
    }


def heal(entry: dict) -> dict:
    """The same entry, its server now without faults."""
    Path(next(arg for arg in entry["command"] if arg.startswith("--faults=")).split("=", 1)[1]).write_text("{}")
    return entry


def requests(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def answers(output: Path, model: str) -> dict:
    details = read_details([output / "details" / model])
    return {row.id: (row.stage, tuple(row.extracted), getattr(row, "acc", None)) for row in details.itertuples()}


def questions(built: Path) -> int:
    import datasets

    return sum(len(datasets.load_dataset(str(built / "data"), c, split="sub")) for c in ("diagnosis", "localization"))


# --- SWEEP.yaml -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, message",
    [
        (
            "dataset: d\nmodels:\n  - {name: a, backend: ollama}\n",
            r"line 3: models\[0\]\.backend: backend 'ollama' is not",
        ),
        (
            "dataset: d\nmodels:\n  - {name: a, backend: openai, model: m}\n",
            r"line 3: models\[0\]: the openai backend needs base_url",
        ),
        (
            "dataset: d\nmodels:\n  - {name: a, backend: baseline, baseline: random, port: 3}\n",
            r"line 3: models\[0\]\.port: not a setting of the baseline backend",
        ),
        (
            "dataset: d\ngeneration: {max_new_tokens: -1}\nmodels: [{name: a, backend: baseline, baseline: random}]\n",
            r"line 2: generation\.max_new_tokens: Input should be greater than or equal to 1, found -1",
        ),
        (
            "dataset: d\ntasks: [mmlu]\nmodels: [{name: a, backend: baseline, baseline: random}]\n",
            r"line 2: tasks\[0\]: 'mmlu' is not a spinebench task",
        ),
        (
            (
                "dataset: d\nmodels:\n  - {name: a, backend: baseline, baseline: random}\n"
                "  - {name: a, backend: baseline, baseline: healthy}\n"
            ),
            r"line 4: models\[1\]\.name: 'a' is used twice",
        ),
        ("dataset: d\nmodels: [\n", r"not valid YAML"),
    ],
)
def test_sweep_file_errors_name_the_line_and_the_field(tmp_path, text, message):
    path = tmp_path / "SWEEP.yaml"
    path.write_text(text)
    with pytest.raises(SweepError, match=message):
        load_sweep(path)


def test_the_issue_example_parses(tmp_path):
    path = tmp_path / "SWEEP.yaml"
    path.write_text("""
dataset: ./spinebench
tasks: [spinebench:diagnosis, spinebench:localization]
generation: {max_new_tokens: 1024, temperature: 0}
models:
  - {name: qwen2.5-vl-7b, backend: vllm, model: Qwen/Qwen2.5-VL-7B-Instruct, serve_args: [--tensor-parallel-size, "2"]}
  - {name: gpt-4o, backend: openai, model: gpt-4o-2024-11-20, base_url: "https://api.example/v1",
     api_key_env: OPENAI_API_KEY, concurrency: 16}
  - {name: local, backend: server, command: [python, my_server.py], ready_url: "http://127.0.0.1:8000/v1/models",
     base_url: "http://127.0.0.1:8000/v1", model: my-model}
  - {name: random, backend: baseline, baseline: random}
""")
    sweep = load_sweep(path)
    assert sweep.dataset == tmp_path / "spinebench" and sweep.max_new_tokens == 1024
    assert [(m.name, m.backend) for m in sweep.models] == [
        ("qwen2.5-vl-7b", "vllm"),
        ("gpt-4o", "openai"),
        ("local", "server"),
        ("random", "baseline"),
    ]


# --- runs ---------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_faults_are_retried_and_the_results_equal_a_clean_run(built, tmp_path, capsys):
    clean_port, flaky_port = free_port(), free_port()
    clean = served(clean_port, log=tmp_path / "clean.log")
    flaky = served(flaky_port, log=tmp_path / "flaky.log", fail_rate=0.3, drop_rate=0.1, seed=3) | {"retries": 8}
    assert (
        main(["sweep", str(sweep_file(tmp_path, built / "data", [clean, flaky])), "--output", str(tmp_path / "out")])
        == 0
    )
    assert {status for r in requests(tmp_path / "flaky.log") for status in [r["status"]]} >= {0, 200, 429, 500}
    assert answers(tmp_path / "out", flaky["name"]) == answers(tmp_path / "out", clean["name"])
    assert len(answers(tmp_path / "out", clean["name"])) == questions(built)
    out = capsys.readouterr().out
    assert "| model | task | questions | from cache | new | failed | wall (s) | tokens/s |" in out
    assert (tmp_path / "out" / "report" / "report.md").exists()


@pytest.mark.slow
def test_requests_that_never_succeed_are_failed_not_answers(built, tmp_path, capsys):
    port = free_port()
    entry = served(port, log=tmp_path / "server.log", always_fail_mod=4) | {"retries": 1}
    path = sweep_file(
        tmp_path, built / "data", [entry, {"name": "random", "backend": "baseline", "baseline": "random"}]
    )
    assert main(["sweep", str(path), "--output", str(tmp_path / "out")]) == 1  # incomplete: non-zero at the end
    captured = capsys.readouterr()
    assert f"incomplete (failed requests, retried by the next run): {entry['name']}" in captured.err
    got = answers(tmp_path / "out", entry["name"])
    failed = {k for k, (stage, letters, acc) in got.items() if stage == "failed"}
    assert failed and all(got[k][1] == () and pd.isna(got[k][2]) for k in failed)  # never scored as an answer
    assert f"{entry['name']} (incomplete: {len(failed)} failed)" in captured.out
    assert len(answers(tmp_path / "out", "random")) == questions(built)  # the sweep went on with the other model
    rates = pd.read_csv(tmp_path / "out" / "report" / "rates.csv")
    assert rates[rates.model == entry["name"]].failed.sum() == len(failed)
    # the next run asks the failed ones again (and only them), against a server that now answers
    asked_before = len(requests(tmp_path / "server.log"))
    path = sweep_file(tmp_path, built / "data", [heal(entry)])
    assert main(["sweep", str(path), "--output", str(tmp_path / "out")]) == 0
    again = requests(tmp_path / "server.log")[asked_before:]
    assert len(again) == len(failed) and all(r["status"] == 200 for r in again)


@pytest.mark.slow
def test_a_server_killed_in_the_middle_then_a_rerun(built, tmp_path):
    port = free_port()
    dying = served(port, log=tmp_path / "server.log", die_after=5) | {"retries": 1, "concurrency": 1}
    path = sweep_file(tmp_path, built / "data", [dying], tasks=["spinebench:diagnosis"])
    assert main(["sweep", str(path), "--output", str(tmp_path / "out")]) == 1
    first = answers(tmp_path / "out", dying["name"])
    assert sum(stage != "failed" for stage, _, _ in first.values()) == 5
    healthy = heal(dying)
    assert (
        main(
            [
                "sweep",
                str(sweep_file(tmp_path, built / "data", [healthy], tasks=["spinebench:diagnosis"])),
                "--output",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    done = [r["request"] for r in requests(tmp_path / "server.log") if r["status"] == 200]
    assert len(done) == len(set(done)) == len(first)  # no completed item was asked twice


@pytest.mark.slow
def test_the_sweep_killed_in_the_middle_resumes_to_the_same_results(built, tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(port), "--latency", "0.05", "--log", str(tmp_path / "server.log")]
    )
    try:
        entry = {
            "name": "api",
            "backend": "openai",
            "model": "served-model",
            "base_url": f"http://127.0.0.1:{port}/v1",
            "concurrency": 2,
        }
        path = sweep_file(tmp_path, built / "data", [entry])
        command = [sys.executable, "-m", "spinebench_hf.cli", "sweep", str(path), "--output", str(tmp_path / "out")]
        env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
        sweep = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while len(requests(tmp_path / "server.log")) < 8 and time.monotonic() < deadline and sweep.poll() is None:
            time.sleep(0.05)
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
        killed_after = len(requests(tmp_path / "server.log"))
        assert 8 <= killed_after < questions(built)  # killed in the middle
        rerun = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        asked = [r["request"] for r in requests(tmp_path / "server.log")]
        stored_before_kill = len(asked) - len(set(asked))  # a request in flight at the kill may be asked again
        assert stored_before_kill <= 2 and len(set(asked)) == questions(built)
        resumed = answers(tmp_path / "out", "api")
        clean = subprocess.run(
            [*command[:-1], str(tmp_path / "clean")], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        assert clean.returncode == 0, clean.stderr[-2000:]
        assert answers(tmp_path / "clean", "api") == resumed  # byte-identical scores to an uninterrupted run
    finally:
        server.kill()


@pytest.mark.slow
def test_a_vllm_entry_starts_vllm_serve(built, tmp_path, monkeypatch):
    """The vllm backend runs `vllm serve MODEL --port N ...`: here a stand-in `vllm` on PATH starts the test server."""
    fake = tmp_path / "bin" / "vllm"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nexec {sys.executable} {SERVER} "$@" --log {tmp_path / "vllm.log"}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    entry = {
        "name": "qwen",
        "backend": "vllm",
        "model": "Qwen/Qwen2.5-VL-7B-Instruct",
        "serve_args": ["--tensor-parallel-size", "2"],
        "ready_timeout": 60,
    }
    path = sweep_file(tmp_path, built / "data", [entry], tasks=["spinebench:localization"])
    assert main(["sweep", str(path), "--output", str(tmp_path / "out")]) == 0
    assert len(requests(tmp_path / "vllm.log")) == len(answers(tmp_path / "out", "qwen")) > 0


def test_every_part_of_the_key_matters(tmp_path):
    from spinebench_hf.evaluation.response_cache import ResponseCache, reply_key

    base = ("fingerprint", "item", "model", {"max_new_tokens": 64, "temperature": 0.0}, "prompt", b"image")
    keys = {reply_key(*base)}
    for index, other in enumerate(
        ["rebuilt", "item2", "model2", {"max_new_tokens": 65, "temperature": 0.0}, "prompt2", b"image2"]
    ):
        changed = list(base)
        changed[index] = other
        keys.add(reply_key(*changed))
    assert len(keys) == 7  # a rebuilt dataset, another item, model, setting, prompt or image: never a stale reply
    cache = ResponseCache(tmp_path / "responses.sqlite")
    cache.put(reply_key(*base), "model", "item", "My final option: [A]", 7)
    cache.close()
    assert ResponseCache(tmp_path / "responses.sqlite").get_many([reply_key(*base), "missing"]) == {
        reply_key(*base): ("My final option: [A]", 7)
    }


@pytest.mark.slow
def test_an_api_and_baseline_sweep_imports_neither_torch_nor_lighteval(built, tmp_path):
    from conftest import ChatServer, completion

    server = ChatServer([completion("My final option: [A]")])
    try:
        models = [
            {"name": "api", "backend": "openai", "model": "m", "base_url": server.url},
            {"name": "random", "backend": "baseline", "baseline": "random"},
            {"name": "healthy", "backend": "baseline", "baseline": "healthy"},
        ]
        path = sweep_file(tmp_path, built / "data", models)
        done = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-m",
                "spinebench_hf.cli",
                "sweep",
                str(path),
                "--output",
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
            env=dict(os.environ, HF_HUB_OFFLINE="1"),
        )
    finally:
        server.close()
    assert done.returncode == 0, done.stderr[-3000:]
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "spinebench_hf" in imported and not imported & {"torch", "lighteval", "transformers", "open_clip"}
    assert len(server.requests) == questions(built)


def test_a_worker_never_asks_again_while_its_reply_waits_unstored():
    """However slow the storing, at most `concurrency` questions are asked and not yet taken: all a kill can lose."""
    import threading

    from spinebench_hf.evaluation.sweep_backends import asked_in_slots

    lock, state, worst = threading.Lock(), {"asked": 0, "taken": 0}, []

    def ask(question):
        with lock:
            state["asked"] += 1
            worst.append(state["asked"] - state["taken"])
        return f"reply {question}", None

    for question, reply, _ in asked_in_slots(ask, list(range(40)), concurrency=3):
        assert reply == f"reply {question}"
        time.sleep(0.01)  # a slow store: the workers wait for their slots instead of asking ahead
        with lock:
            state["taken"] += 1
    assert state == {"asked": 40, "taken": 40} and max(worst) <= 3
