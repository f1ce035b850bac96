"""Shared by the tests: offline settings, fixture archives in the forms users give them, a built dataset, a chat
server, known scored questions, torchrun. Helpers are imported from here (`from conftest import ...`), fixtures
found by pytest; no test file imports another."""

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from tiny_clip import register_tiny_model  # noqa: E402

from spinebench_hf.sources.records import Record, Skip  # noqa: E402
from spinebench_hf.sources.synthetic import pack, write_samples  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FORMS = ["folder", "zip", "tar", "tar.gz"]

# one dataset row as the lighteval task receives it (a localization question on an RSNA slice)
ROW = {
    "id": "rsna/1/2/3/localization/spinal-canal-stenosis",
    "image_id": "rsna/1/2/3",
    "task": "localization",
    "question": "What is the site of the disease in the spine?",
    "options": ["L2/L3", "L1/L2", "L5/S1", "L4/L5", "L3/L4"],
    "answer": ["B", "D"],
    "source": 2,
    "disease": 4,
    "modality": "MRI",
    "study_id": "1",
    "image": Image.new("RGB", (8, 8)),
}


def on_ci() -> bool:
    """CI sets CI=true: there a missing prerequisite is a failure, never a skip."""
    return os.environ.get("CI", "").lower() == "true"


def prerequisite(module: str, install: str):
    """Import `module` for a test, or skip the test naming what to install (`pytest` anywhere); on CI, fail."""
    if on_ci():
        import importlib

        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"needs {install}")


def program(path: str, install: str) -> str:
    """A program a test needs (Chromium, its driver): its path, or a skip naming what to install; on CI, fail."""
    if not os.path.exists(path):
        (pytest.fail if on_ci() else pytest.skip)(f"needs {path}: {install}")
    return path


def in_form(folder: Path, form: str, wrapper: str = "wrap/") -> Path:
    """The source folder as the user may give it: the folder itself, or an archive with a wrapper folder."""
    if form == "folder":
        return folder
    return pack(folder, folder.parent / f"{folder.name}-archive.{form}", wrapper=wrapper)


def read_all(reader) -> tuple[dict[str, Record], dict[str, Skip]]:
    records, skips = {}, {}
    for item in reader.read():
        target = skips if isinstance(item, Skip) else records
        assert item.key not in target, f"key {item.key} yielded twice"
        target[item.key] = item
    return records, skips


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    """`python -c CODE` in a fresh process from the project root, offline."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env=dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", **env),
    )


def torchrun(args, env=None, timeout=600):
    """Two data-parallel processes on the CPU (accelerate's MULTI_CPU, gloo)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, ACCELERATE_USE_CPU="true", OMP_NUM_THREADS="1", **(env or {})),
    )


class ChatServer:
    """Answers /v1/chat/completions from a script of (status, body) pairs (a body in bytes is sent as it is, JSON or
    not); records every request."""

    def __init__(self, script, delay=0.0):
        self.script, self.delay, self.requests, self.in_flight, self.max_in_flight = list(script), delay, [], 0, 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(
                        {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
                    )
                    status, payload = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                time.sleep(server.delay)
                with server.lock:
                    server.in_flight -= 1
                data = (
                    payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                )  # bytes: sent as they are
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("retry-after-ms", "10")  # keep the client's backoff short in tests
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self):
        self.httpd.shutdown()


def completion(text):
    return 200, {
        "id": "c1",
        "object": "chat.completion",
        "created": 0,
        "model": "served",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
    }


# scored questions with known answers (two models, clustered studies), as report.details.scored_questions gives them
DIAG_OPTIONS = ["Osteophytes", "Healthy", "Vertebral collapse", "Disc space narrowing", "Foraminal stenosis"]
LEVEL_OPTIONS = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]


def diag(model, qid, study, gold, extracted, source="vindr"):
    answer = ["ABCDE"[DIAG_OPTIONS.index(gold)]]
    return {
        "model": model,
        "task": "diagnosis",
        "variant": "",
        "id": qid,
        "image_id": qid,
        "study_id": study,
        "source": source,
        "disease": gold,
        "modality": "X-ray",
        "options": DIAG_OPTIONS,
        "answer": answer,
        "extracted": extracted,
        "stage": "marker" if extracted else "none",
        "acc": float(extracted == answer),
        "format_compliance": float(bool(extracted)),
    }


def loc(model, qid, study, gold, extracted, precision, recall):
    return {
        "model": model,
        "task": "localization",
        "variant": "",
        "id": qid,
        "image_id": qid,
        "study_id": study,
        "source": "rsna",
        "disease": "Spinal canal stenosis",
        "modality": "MRI",
        "options": LEVEL_OPTIONS,
        "answer": gold,
        "extracted": extracted,
        "stage": "marker",
        "acc": float(sorted(gold) == sorted(extracted)),
        "precision": precision,
        "recall": recall,
        "format_compliance": 1.0,
    }


RECORDS = pd.DataFrame(
    [
        diag("m1", "q1", "s1", "Osteophytes", ["A"]),
        diag("m1", "q2", "s1", "Healthy", ["A"]),
        diag("m1", "q3", "s2", "Healthy", ["B"]),
        diag("m1", "q4", "s3", "Vertebral collapse", []),
        diag("m2", "q1", "s1", "Osteophytes", ["B"]),
        diag("m2", "q2", "s1", "Healthy", ["B"]),
        diag("m2", "q3", "s2", "Healthy", ["B"]),
        diag("m2", "q4", "s3", "Vertebral collapse", ["A", "C"]),
        loc("m1", "l1", "s4", ["C", "D"], ["C", "D"], 1.0, 1.0),
        loc("m1", "l2", "s4", ["D"], ["C", "D"], 0.5, 1.0),
        loc("m2", "l1", "s4", ["C", "D"], ["C"], 1.0, 0.5),
        loc("m2", "l2", "s4", ["D"], ["E"], 0.0, 0.0),
    ]
)


def assert_one_truth_per_image(data: Path) -> int:
    """Check docs/building.md on every built row.

    A localization row's condition is among the diseases of its image's diagnosis row.
    Returns how many localization rows were checked."""
    import datasets

    checked = 0
    diagnosis = datasets.load_dataset(str(data), "diagnosis", split="full").remove_columns("image")
    names = diagnosis.features["diseases"].feature.names
    diseases = {row["image_id"]: {names[d] for d in row["diseases"]} for row in diagnosis}
    for split in ("full", "sub"):
        localization = datasets.load_dataset(str(data), "localization", split=split).remove_columns("image")
        for row in localization:
            condition = names[row["disease"]]
            assert condition in diseases.get(row["image_id"], ()), (
                row["id"],
                condition,
                diseases.get(row["image_id"]),
            )
            checked += 1
    return checked


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A folder holding `archives/` (8 images per source), `data/` (SpineBench built from them with a tiny
    random-weight encoder) and `cache/`."""
    root = tmp_path_factory.mktemp("built")
    sources = {k: str(v) for k, v in write_samples(root / "archives", per_source=8).items()}
    from spinebench_hf.construction.pipeline import BuildOptions, build

    with pytest.warns(UserWarning):
        build(
            BuildOptions(
                sources=sources,
                output=root / "data",
                encoder=register_tiny_model(),
                encoder_weights="random",
                max_side=64,
                cache_dir=root / "cache",
            )
        )
    return root
