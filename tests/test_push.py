"""`spinebench push`: the licence guard runs before any network call; a push reads back with load_dataset."""

import json
import shutil

import datasets
import pytest
from fake_hub import fake_hub
from tiny_clip import register_tiny_model

from spinebench_hf.cli import main
from spinebench_hf.construction.pipeline import BuildOptions, build
from spinebench_hf.construction.push import PushRefused, push
from spinebench_hf.sources.synthetic import CsxaCase, VindrImage, write_csxa, write_vindr


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """A CSXA-only build (open access) and a CSXA + VinDr build (restricted)."""
    root = tmp_path_factory.mktemp("push")
    csxa = write_csxa(root / "csxa", [CsxaCase(n, 1 + n % 5) for n in range(1, 9)])
    vindr = write_vindr(root / "vindr", [VindrImage(f"{n:032x}", lesions=("Osteophytes",)) for n in range(1, 5)])
    folders = {}
    for name, sources in {"open": {"csxa": csxa}, "restricted": {"csxa": csxa, "vindr": vindr}}.items():
        options = BuildOptions(
            sources={k: str(v) for k, v in sources.items()},
            output=root / name,
            encoder=register_tiny_model(),
            encoder_weights="random",
            max_side=48,
            cache_dir=root / "cache",
        )
        with pytest.warns(UserWarning):
            build(options)
        folders[name] = options.output
    return folders


def test_public_push_of_restricted_images_is_refused_before_any_network_call(builds, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a network call would raise OfflineModeIsEnabled, not PushRefused
    with pytest.raises(PushRefused, match=r"refusing a public upload: .* holds images from VinDr-SpineXR"):
        push(builds["restricted"], "org/spinebench", public=True)


def test_cli_refusal_is_a_message_not_a_traceback(builds, capsys):
    assert main(["push", str(builds["restricted"]), "--repo-id", "org/x", "--public"]) == 2
    assert "spinebench: error: refusing a public upload" in capsys.readouterr().err


def test_private_push_reads_back(builds, tmp_path):
    with fake_hub(tmp_path / "hub") as hub:
        push(builds["restricted"], "org/spinebench")
        assert hub.private["org/spinebench"] is True
        folder = hub.repo_dir("org/spinebench")
    assert json.loads(open(f"{folder}/build_report.json").read())["sources"]["vindr"]["images"] == 4
    pushed = datasets.load_dataset(folder, "diagnosis", split="sub")
    local = datasets.load_dataset(str(builds["restricted"]), "diagnosis", split="sub")
    assert pushed["id"] == local["id"] and pushed[0]["image"].mode == "RGB"


def test_a_second_push_removes_stale_shards(builds, tmp_path):
    with fake_hub(tmp_path / "hub") as hub:
        push(builds["open"], "org/open")
        stale = tmp_path / "hub" / "org__open" / "diagnosis" / "full-00001-of-00002.parquet"
        stale.write_bytes(b"an earlier build's second shard")
        push(builds["open"], "org/open")
        assert not stale.exists() and "diagnosis/full-00000-of-00001.parquet" in hub.files("org/open")


def test_public_push_of_open_sources_and_the_override(builds, tmp_path):
    with fake_hub(tmp_path / "hub") as hub:
        push(builds["open"], "org/open", public=True)
        push(builds["restricted"], "org/override", public=True, allow_restricted_sources=True)
        assert hub.private == {"org/open": False, "org/override": False}
        assert "diagnosis/full-00000-of-00001.parquet" in hub.files("org/open")


def test_a_folder_that_is_not_a_build_is_refused(tmp_path):
    shutil.rmtree(tmp_path, ignore_errors=True)
    tmp_path.mkdir()
    with pytest.raises(PushRefused, match="not a SpineBench build"):
        push(tmp_path, "org/x")


def test_a_private_push_into_an_existing_public_repo_is_refused(builds, tmp_path):
    """An existing repo keeps its visibility: restricted images pushed "privately" into a public one would be
    published."""
    with fake_hub(tmp_path / "hub") as hub:
        push(builds["open"], "org/shared", public=True)
        with pytest.raises(PushRefused, match="org/shared exists and is public"):
            push(builds["restricted"], "org/shared")
        assert len(hub.commits) == 1
        push(builds["restricted"], "org/private")  # a private repo: fine
