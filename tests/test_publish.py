"""`spinebench publish` and `spinebench leaderboard` against the fake Hub (no network): what is uploaded, the card
parses, no restricted image leaves, publishing again changes nothing, adding a model adds its config."""

import base64
import hashlib
import json
from pathlib import Path

import datasets
import pandas as pd
import pytest
from conftest import RECORDS
from fake_hub import fake_hub
from huggingface_hub import DatasetCard

from spinebench_hf.cli import main
from spinebench_hf.errors import SpineBenchError
from spinebench_hf.report.leaderboard import write_leaderboard
from spinebench_hf.report.publish import PublishFailed, publish
from spinebench_hf.schema import SOURCE_NAMES

SWEEP_TASKS = ["spinebench:diagnosis", "spinebench:localization"]


def sweep(built: Path, out: Path, *names: str) -> Path:
    """A sweep of weight-free baselines over the built fixture (its details name the dataset for the images)."""
    entries = [{"name": name, "backend": "baseline", "baseline": name.split("-")[0]} for name in names]
    config = out / "SWEEP.yaml"
    out.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"dataset": str(built / "data"), "tasks": SWEEP_TASKS, "models": entries}))
    assert main(["sweep", str(config), "--output", str(out / "run")]) == 0
    return out / "run"


@pytest.fixture(scope="module")
def runs(built, tmp_path_factory):
    root = tmp_path_factory.mktemp("publish-runs")
    return {
        "both": sweep(built, root / "both", "random", "healthy"),
        "third": sweep(built, root / "third", "random-2"),
    }


def restricted_images(built: Path) -> dict[str, bytes]:
    """The stored image of every question whose source forbids redistribution, and one CSXA image (allowed)."""
    found = {}
    for path in sorted((built / "data").glob("*/sub-*.parquet")):
        for row in pd.read_parquet(path, columns=["id", "source", "image"]).itertuples():
            found[row.id] = (SOURCE_NAMES[row.source], row.image["bytes"])  # the stored ClassLabel
    return found


def uploaded_bytes(hub, repo_id: str) -> dict[str, bytes]:
    folder = Path(hub.repo_dir(repo_id))
    return {name: (folder / name).read_bytes() for name in hub.files(repo_id)}


def test_publish_uploads_one_config_per_model_results_report_and_a_card_that_parses(runs, tmp_path):
    with fake_hub(tmp_path / "hub") as hub:
        done = publish([runs["both"]], "org/results")
        files = hub.files("org/results")
        assert hub.private["org/results"] is True  # private by default
    assert done.models == ("healthy", "random")
    for model in done.models:
        assert f"details/{model}/details.parquet" in files and f"details/{model}/run.json" in files
    assert {"README.md", "results.csv", "results.md", "report/report.md", "report/report.html"} <= set(files)
    folder = Path(hub.repo_dir("org/results"))
    card = DatasetCard((folder / "README.md").read_text()).data
    assert sorted(c["config_name"] for c in card.configs) == ["healthy", "random"]
    meta = card.to_dict()["spinebench"]
    assert [m["name"] for m in meta["models"]] == ["healthy", "random"]
    random = meta["models"][1]
    assert random["harness"] == "spinebench sweep" and random["backend"] == "baseline"
    assert random["generation"] == {"max_new_tokens": 2048, "temperature": 0.0} or random["generation"]
    assert random["dataset_kind"] == "build" and len(random["dataset_fingerprint"]) == 64
    assert "spinebench-hf" in meta["published_with"]
    details = datasets.load_dataset(str(folder), "random", split="latest")
    assert set(details["model"]) == {"random"} and {"reply", "extracted", "stage", "acc"} <= set(details.column_names)
    assert "image" not in details.column_names
    assert "| random |" in (folder / "results.md").read_text()
    assert str(runs["both"].parent) not in (folder / "README.md").read_text()  # no local path is published


def test_no_restricted_image_leaves_unless_allowed(runs, built, tmp_path):
    images = restricted_images(built)
    # whole images: small PNGs of one size share their first few hundred bytes whatever their source
    restricted = [base64.b64encode(data) for source, data in images.values() if source != "csxa"]
    allowed = [base64.b64encode(data) for source, data in images.values() if source == "csxa"]
    with fake_hub(tmp_path / "hub") as hub:
        publish([runs["both"]], "org/guarded", public=True, space="org/board")
        guarded = uploaded_bytes(hub, "org/guarded") | uploaded_bytes(hub, "org/board")
        publish([runs["both"]], "org/open", allow_restricted_sources=True)
        opened = uploaded_bytes(hub, "org/open")
    assert not any(image in data for image in restricted for data in guarded.values())
    assert any(image in data for image in allowed for data in guarded.values())  # CSXA's licence allows it
    assert b"image withheld: VinDr-SpineXR does not allow" in guarded["report/report.html"]
    assert any(image in data for image in restricted for data in opened.values())


def test_publishing_again_is_idempotent_and_a_new_model_adds_its_config(runs, tmp_path):
    with fake_hub(tmp_path / "hub") as hub:
        publish([runs["both"]], "org/results")
        first = uploaded_bytes(hub, "org/results")
        publish([runs["both"]], "org/results")
        assert uploaded_bytes(hub, "org/results") == first  # the same files, byte for byte
        publish([runs["third"]], "org/results")
        after = uploaded_bytes(hub, "org/results")
    card = DatasetCard(after["README.md"].decode()).data
    assert sorted(c["config_name"] for c in card.configs) == ["healthy", "random", "random-2"]
    assert after["details/random/details.parquet"] == first["details/random/details.parquet"]  # kept as it was
    assert all(f"| {m} |".encode() in after["results.md"] for m in ("random", "healthy", "random-2"))
    assert b"random-2" in after["report/report.html"] and b"healthy" in after["report/report.html"]


def test_the_space_is_a_static_leaderboard(runs, tmp_path):
    with fake_hub(tmp_path / "hub") as hub:
        done = publish([runs["both"]], "org/results", space="org/board")
        files = hub.files("org/board")
        assert hub.kinds["org/board"] == ("space", "static") and hub.private["org/board"] is True
    assert done.space and {"README.md", "index.html", "models/random/report.html"} <= set(files)
    readme = (Path(hub.repo_dir("org/board")) / "README.md").read_text()
    assert "sdk: static" in readme and "app_file: index.html" in readme


def test_without_the_hub_it_is_a_message(runs, capsys):
    assert main(["publish", str(runs["both"]), "--repo-id", "org/x"]) == 2  # HF_HUB_OFFLINE=1: no connection
    error = capsys.readouterr().err
    assert "org/x: publishing failed" in error and "Traceback" not in error
    with pytest.raises(PublishFailed):
        publish([runs["both"]], "org/x")


def test_two_models_that_would_share_a_config_are_refused(tmp_path):
    scored = RECORDS.assign(model=RECORDS.model.map({"m1": "org/model", "m2": "org_model"}))
    with pytest.raises(SpineBenchError, match="would share"):
        write_leaderboard(scored, tmp_path / "board")


def test_the_leaderboard_command(runs, tmp_path, capsys):
    assert main(["leaderboard", str(runs["both"]), str(runs["third"]), "--output", str(tmp_path / "board")]) == 0
    page = (tmp_path / "board" / "index.html").read_text()
    for model in ("random", "healthy", "random-2"):
        assert f'href="models/{model}/report.html"' in page and (tmp_path / "board" / "models" / model).is_dir()
    assert "Gemini-2.5-pro-exp-03-25" in page and 'class="badge">paper' in page
    assert "image withheld" in (tmp_path / "board" / "models" / "random" / "report.html").read_text()
    digest = hashlib.sha256(page.encode()).hexdigest()
    assert main(["leaderboard", str(runs["both"]), str(runs["third"]), "--output", str(tmp_path / "board")]) == 0
    assert hashlib.sha256((tmp_path / "board" / "index.html").read_bytes()).hexdigest() == digest


def test_the_leaderboard_never_writes_into_a_foreign_folder(tmp_path, capsys):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "README.md").write_text("my own notes")
    with pytest.raises(SpineBenchError, match="holds a README.md that is not the leaderboard's"):
        write_leaderboard(RECORDS, mine)
    assert (mine / "README.md").read_text() == "my own notes" and sorted(p.name for p in mine.iterdir()) == [
        "README.md"
    ]
    (mine / "README.md").unlink()
    (mine / "thesis.tex").write_text("keep me")
    with pytest.raises(SpineBenchError, match="thesis.tex"):
        write_leaderboard(RECORDS, mine)
    board = tmp_path / "board"
    write_leaderboard(RECORDS, board)
    write_leaderboard(RECORDS, board)  # an earlier leaderboard is rewritten
    assert (board / "index.html").exists()


@pytest.mark.parametrize("planted", ["README.md", "data/train.parquet"])
def test_a_repo_that_spinebench_did_not_write_is_refused_and_left_as_it_was(runs, tmp_path, capsys, planted):
    with fake_hub(tmp_path / "hub") as hub:
        folder = Path(hub.repo_dir("org/mine"))
        (folder / planted).parent.mkdir(parents=True, exist_ok=True)
        (folder / planted).write_text("the user's own")
        assert main(["publish", str(runs["both"]), "--repo-id", "org/mine"]) == 2
        assert hub.files("org/mine") == [planted] and not hub.commits
    error = capsys.readouterr().err
    assert "org/mine: holds" in error and "Traceback" not in error


def test_the_leaderboard_command_refuses_a_foreign_folder_in_one_line(runs, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("my notes")
    assert main(["leaderboard", str(runs["both"]), "--output", str(mine)]) == 2
    error = capsys.readouterr().err
    assert "holds a README.md that is not the leaderboard's" in error and "Traceback" not in error
    assert sorted(p.name for p in mine.iterdir()) == ["README.md"] and (mine / "README.md").read_text() == "my notes"
