"""`spinebench push`: upload a built dataset folder to the Hugging Face Hub, private unless asked otherwise.

BUU-LSPINE, RSNA 2024 and VinDr-SpineXR forbid redistribution (spec/sources.md §5): a public upload of a build
holding their images, or of an imported release (which holds them all), is refused before any network call, unless
--allow-restricted-sources is given.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import SpineBenchError


class PushRefused(SpineBenchError):
    """The upload would publish what may not be published, or the folder is not a SpineBench build."""


RELEASE_SOURCES = "the authors' SpineBench release (its images come from BUU-LSPINE, RSNA 2024 and VinDr-SpineXR)"


def restricted_sources(folder: Path) -> list[str]:
    """Titles of the sources in the build whose images may not be redistributed."""
    if (Path(folder) / "import_report.json").is_file() and not (Path(folder) / "build_report.json").exists():
        return [RELEASE_SOURCES]  # an imported release: its images are the restricted sources' own
    report_path = Path(folder) / "build_report.json"
    try:
        report = json.loads(report_path.read_text())
        sources = report["sources"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PushRefused(f"{report_path}: not a SpineBench build (no readable build_report.json): {exc}") from exc
    return [s["title"] for s in sources.values() if s.get("images") and not s.get("redistributable")]


def push(folder: str | Path, repo_id: str, *, public: bool = False, allow_restricted_sources: bool = False,
         token: str | None = None) -> str:
    """Upload `folder` as the dataset repo `repo_id`; returns the commit URL or id."""
    folder = Path(folder)
    restricted = restricted_sources(folder)
    if public and restricted and not allow_restricted_sources:
        raise PushRefused(
            f"refusing a public upload: {folder} holds images from {', '.join(restricted)}, whose licences forbid "
            "redistribution. Push it privately (drop --public), or rebuild without those sources; "
            "--allow-restricted-sources overrides this check if you hold the right to publish them."
        )
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=not public, exist_ok=True)
    files = {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}
    # shards of an earlier push that this build does not have would otherwise still be loaded as data
    stale = [name for name in api.list_repo_files(repo_id, repo_type="dataset")
             if name.endswith(".parquet") and name not in files]
    operations = [CommitOperationAdd(name, str(path)) for name, path in files.items()]
    operations += [CommitOperationDelete(name) for name in stale]
    commit = api.create_commit(repo_id, operations, repo_type="dataset",
                               commit_message="Upload SpineBench built with spinebench-hf")
    return str(getattr(commit, "commit_url", commit))
