"""`spinebench push`: upload a built dataset folder to the Hugging Face Hub, private unless asked otherwise.

BUU-LSPINE, RSNA 2024 and VinDr-SpineXR forbid redistribution (docs/sources.md §5): a public upload of a build
holding their images, or of an imported release (which holds them all), is refused before any network call, unless
--allow-restricted-sources is given. What the folder holds is judged from its rows' `source` column and the import
marker, not from a report that might belong to another dataset; files SpineBench did not write also stop a public
upload.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SpineBenchError, hub_errors, one_line
from ..schema import SOURCE_NAMES, UNKNOWN, class_name
from .output_folder import dataset_report, foreign_files


class PushRefused(SpineBenchError):
    """The upload would publish what may not be published, or the folder is not a SpineBench build."""


RELEASE_SOURCES = "the authors' SpineBench release (its images come from BUU-LSPINE, RSNA 2024 and VinDr-SpineXR)"


def row_sources(folder: Path) -> set[str]:
    """The `source` of every row of every parquet file in `folder`: what it holds, whatever its reports say."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    found: set[str] = set()
    for path in sorted(folder.rglob("*.parquet")):
        try:
            column = pq.read_table(path, columns=["source"]).column("source")
        except (OSError, KeyError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise PushRefused(f"{path}: not a SpineBench parquet file with a `source` column: {exc}") from None
        for value in pc.unique(column).to_pylist():
            found.add(class_name(SOURCE_NAMES, value) if value is not None else UNKNOWN)
    return found


def restricted_sources(folder: Path) -> list[str]:
    """Titles of what the folder holds that may not be redistributed: judged from its rows' sources (an unknown
    source, as an imported release's, counts as restricted) and the import marker, never from a report alone."""
    from ..sources import READERS

    folder, titles = Path(folder), []
    if dataset_report(folder) is None:
        raise PushRefused(
            f"{folder}: not a SpineBench build or imported release (no readable build_report.json or "
            "import_report.json)"
        )
    foreign = foreign_files(folder)
    if foreign:  # what it is cannot be judged: it might be anything
        titles.append(f"files SpineBench did not write ({', '.join(foreign[:5])})")
    sources = row_sources(folder)
    if not sources:
        raise PushRefused(f"{folder}: holds no parquet file: nothing to publish")
    titles += [
        READERS[name].title for name in sorted(sources) if name in READERS and not READERS[name].redistributable
    ]
    if (folder / "import_report.json").exists() or sources - set(READERS):
        titles.append(RELEASE_SOURCES)
    return titles


def push(
    folder: str | Path,
    repo_id: str,
    *,
    public: bool = False,
    allow_restricted_sources: bool = False,
    token: str | None = None,
) -> str:
    """Upload `folder` as the dataset repo `repo_id`; returns the commit URL or id.

    Args:
        folder: a dataset folder written by `spinebench build` or `spinebench import-release`.
        repo_id: the dataset repo on the Hub (`owner/name`); created when missing.
        public: create the repo public, once the restricted-source check passes; private otherwise. An existing
            repo keeps its visibility: pushing restricted images into an existing public repo is refused too.
        allow_restricted_sources: upload publicly even what the sources' licences forbid redistributing.
        token: the Hub token (default: the one huggingface_hub finds).

    Returns:
        The commit's URL.

    Raises:
        PushRefused: the folder is not a SpineBench dataset or holds no readable parquet file; or, for a public
            upload without `allow_restricted_sources`, it holds images of a restricted source (an imported release
            counts as one) or files SpineBench did not write.
        PushFailed: the Hub refused the upload or could not be reached.
    """
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
    files = {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}
    try:
        api.create_repo(repo_id, repo_type="dataset", private=not public, exist_ok=True)
        # an existing repo keeps its visibility: a "private" push into a public repo would publish
        published = api.repo_info(repo_id, repo_type="dataset").private is False
        if published and not public and restricted and not allow_restricted_sources:
            raise PushRefused(
                f"refusing the upload: {repo_id} exists and is public, so pushing {folder} there would publish "
                f"images from {', '.join(restricted)}; push to a private repo, or make {repo_id} private first"
            )
        # shards of an earlier push that this build does not have would otherwise still be loaded as data
        stale = [
            name
            for name in api.list_repo_files(repo_id, repo_type="dataset")
            if name.endswith(".parquet") and name not in files
        ]
        operations = [CommitOperationAdd(name, str(path)) for name, path in files.items()]
        operations += [CommitOperationDelete(name) for name in stale]
        commit = api.create_commit(
            repo_id, operations, repo_type="dataset", commit_message="Upload SpineBench built with spinebench-hf"
        )
    except hub_errors() as exc:
        raise PushFailed(f"{repo_id}: the upload failed ({type(exc).__name__}): {one_line(exc)}") from None
    return str(getattr(commit, "commit_url", commit))


class PushFailed(SpineBenchError):
    """The Hub refused the upload or could not be reached."""
