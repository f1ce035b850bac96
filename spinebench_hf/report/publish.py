"""`spinebench publish`: runs (lighteval details, lmms-eval logs, sweep outputs, in any mix) → a Hub dataset repo
others can open, and optionally the leaderboard as a static Space.

The dataset repo holds, per model, one config (`details/<model>/details.parquet`, split `latest`: every question
with its reply, the letters read, the extraction stage and the scores; never an image) and `details/<model>/run.json`
(what produced the replies, `runs.RunInfo`); then `results.csv`/`results.md` (the paper's table), `report/` (report.md,
report.html and their tables and plots, over every model of the repo) and the card (README.md, YAML that
huggingface_hub parses: the configs, the models and how each was run, the dataset fingerprints, the versions).

- Private by default; `public=True` creates the repo public (an existing repo keeps its visibility).
- No image of a source whose licence forbids redistribution is put in what is uploaded (`licences`), unless
  `allow_restricted_sources`: this is decided, and every file is written, before any connection is opened.
- Publishing again is idempotent: the files are the same bytes (no timestamp is written), one config per model.
  Publishing another model into the repo adds its config and keeps the others; the results, report and card then
  cover every model of the repo (their details are read back from it).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import __version__
from ..errors import SpineBenchError, hub_errors, one_line
from ..schema import HOMEPAGE
from .details import case_images, scored_questions
from .formatting import unique_slugs
from .licences import withheld_images
from .runs import run_infos

DETAILS_SPLIT = "latest"
LIST_COLUMNS = ("options", "answer", "extracted")
OWN_FILES = ("README.md", "results.csv", "results.md")  # besides report/ and details/: what a publish rewrites
VERSIONED = ("spinebench-hf", "lighteval", "lmms-eval", "datasets", "huggingface_hub")


class PublishFailed(SpineBenchError):
    """The Hub refused the upload or could not be reached."""


@dataclass(frozen=True)
class Published:
    """Where the results went."""

    dataset: str  # the dataset repo's commit URL or id
    space: str | None  # the Space's, when one was asked for
    models: tuple[str, ...]  # every model the repo now holds


def config_names(models: Sequence[str]) -> dict[str, str]:
    """Each model's config (and folder) name; two models whose names make the same one are refused."""
    return unique_slugs(models, "config")


def write_details(frame: pd.DataFrame, info: dict, folder: Path) -> None:
    """One model's questions as `details.parquet` (the same bytes for the same rows) and its `run.json`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    rows = frame.sort_values(["variant", "task", "id"]).reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), folder / "details.parquet")
    (folder / "run.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def read_published(parquet: Path) -> pd.DataFrame:
    """A published details.parquet, as `details.scored_questions` gives it (lists as lists)."""
    try:
        frame = pd.read_parquet(parquet)
    except (OSError, ValueError) as exc:
        raise SpineBenchError(f"{parquet}: not a readable published details file: {exc}") from None
    for column in LIST_COLUMNS:
        frame[column] = frame[column].map(list)
    return frame


def package_versions() -> dict[str, str]:
    """The versions installed where the results are published."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in VERSIONED:
        try:
            found[name] = __version__ if name == "spinebench-hf" else version(name)
        except PackageNotFoundError:
            continue
    return found


def card(scored: pd.DataFrame, repo_id: str, configs: dict[str, str], infos: dict[str, dict], withheld: bool) -> str:
    """The repo's README.md: YAML metadata (configs, models, how each was run) and a short text with the table."""
    from huggingface_hub import DatasetCardData

    from .tables import paper_table

    models = [{"name": model, "config": configs[model], **infos.get(model, {})} for model in sorted(configs)]
    data = DatasetCardData(
        pretty_name="SpineBench results",
        tags=["spinebench", "evaluation", "medical-imaging", "vision-language-models"],
        configs=[
            {"config_name": name, "data_files": [{"split": DETAILS_SPLIT, "path": f"details/{name}/details.parquet"}]}
            for name in sorted(configs.values())
        ],
        spinebench={
            "benchmark": f"SpineBench ({HOMEPAGE})",
            "published_with": package_versions(),
            "models": models,
            "images": "withheld where the source's licence forbids redistribution" if withheld else "as the runs hold",
        },
    )
    loading = next(iter(sorted(configs.values())))
    body = f"""# SpineBench results

Per-question results of {len(configs)} model(s) on SpineBench ([paper]({HOMEPAGE})), published with
`spinebench publish` (spinebench-hf {__version__}). One config per model: every question with the model's reply,
the answer letters read from it, how they were read, and the scores. No image is stored here.

```python
from datasets import load_dataset
details = load_dataset("{repo_id}", "{loading}", split="{DETAILS_SPLIT}")
```

## Results (%)

{paper_table(scored[scored.variant == ""])}

The full report (intervals clustered by study, breakdowns, confusion matrices, a case gallery): `report/report.html`.
How each model was run (harness, generation settings, dataset fingerprint): the `spinebench.models` metadata above.
"""
    return f"---\n{data.to_yaml()}\n---\n\n{body}"


def stage_run(scored: pd.DataFrame, runs: Sequence[str | Path], folder: Path) -> dict[str, dict]:
    """Write the new runs' details per model into `folder`; returns what produced each model's replies."""
    infos = {model: info.as_dict() for model, info in run_infos(runs).items()}
    for model, name in config_names(list(scored.model.unique())).items():
        write_details(scored[scored.model == model], {"model": model, **infos.get(model, {})}, folder / name)
    return infos


def about(infos: dict[str, dict]) -> dict:
    """The datasets' fingerprints and the synthetic-data note of the models' runs, for the report's summary."""
    fingerprints = sorted({i["dataset_fingerprint"] for i in infos.values() if i.get("dataset_fingerprint")})
    banner = next((i["dataset_synthetic"] for i in infos.values() if i.get("dataset_synthetic")), None)
    return {"fingerprints": fingerprints, "banner": banner}


def write_results(scored: pd.DataFrame, folder: Path, images, withheld: dict[str, str], infos: dict) -> None:
    """The results table and the report over every model, beside the details."""
    from .tables import paper_table, write_report

    protocol = scored[scored.variant == ""]
    write_report(scored, folder / "report", images, withheld, **about(infos))
    (folder / "results.md").write_text(paper_table(protocol, about(infos)["banner"]) + "\n", encoding="utf-8")
    shutil.copyfile(folder / "report" / "table.csv", folder / "results.csv")


def publish(
    runs: Sequence[str | Path],
    repo_id: str,
    *,
    public: bool = False,
    allow_restricted_sources: bool = False,
    space: str | None = None,
    token: str | None = None,
) -> Published:
    """Publish runs as the Hub dataset repo `repo_id` (and the leaderboard as the Space `space`).

    Args:
        runs: lighteval output folders or results files, lmms-eval output folders or samples, sweep outputs.
        repo_id: the dataset repo (`owner/name`), created when missing.
        public: create the repos public; private otherwise (an existing repo keeps its visibility).
        allow_restricted_sources: show in the report and leaderboard the images of sources whose licences forbid
            redistribution (you hold the right to publish them).
        space: a Space (`owner/name`) to upload the leaderboard of every model in the repo to, as a static page.
        token: the Hub token (default: the one huggingface_hub finds).

    Returns:
        The commits made and the models the repo now holds.

    Raises:
        SpineBenchError: the runs are unreadable, answer a question twice, or two models' names make one config.
        PublishFailed: the Hub refused a request or could not be reached.
    """
    scored = scored_questions(runs)
    withheld = withheld_images(scored, allow_restricted_sources)  # the guard: judged before any connection
    with tempfile.TemporaryDirectory(prefix="spinebench-publish-") as staging:
        folder = Path(staging) / "dataset"
        # the details hold no image; the report shows only the images of the runs given, judged above
        infos = stage_run(scored, runs, folder / "details")
        try:
            return _upload(scored, runs, folder, infos, withheld, repo_id, public, space, token)
        except hub_errors() as exc:
            raise PublishFailed(f"{repo_id}: publishing failed ({type(exc).__name__}): {one_line(exc)}") from None


def _upload(scored, runs, folder: Path, infos, withheld, repo_id, public, space, token) -> Published:
    """Merge with what the repo holds, write the results, report and card, and commit; then the Space."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=not public, exist_ok=True)
    existing = api.list_repo_files(repo_id, repo_type="dataset")
    refuse_foreign_repo(api, repo_id, existing)
    ours = {f"details/{name}/details.parquet" for name in config_names(list(scored.model.unique())).values()}
    previous = []
    for path in sorted(p for p in existing if p.startswith("details/") and p.endswith("/details.parquet")):
        if path not in ours:
            local = api.hf_hub_download(repo_id, path, repo_type="dataset")
            info = api.hf_hub_download(repo_id, path.replace("details.parquet", "run.json"), repo_type="dataset")
            previous.append((read_published(Path(local)), json.loads(Path(info).read_text(encoding="utf-8"))))
    everything = pd.concat([frame for frame, _ in previous] + [scored], ignore_index=True)
    configs = config_names(list(everything.model.unique()))  # a kept model whose name collides with a new one
    infos = {info.pop("model", None): info for _, info in previous} | infos
    images = (lambda ids: case_images(runs, ids)) if len(scored) else None
    write_results(everything, folder, images, withheld, infos)
    (folder / "README.md").write_text(card(everything, repo_id, configs, infos, bool(withheld)), encoding="utf-8")
    dataset = _commit(api, repo_id, "dataset", folder, existing, "Publish SpineBench results with spinebench-hf")
    space_commit = None
    if space:
        space_commit = publish_space(api, everything, runs, space, public, withheld, infos)
    return Published(dataset, space_commit, tuple(sorted(configs)))


CARD_MARK = "published with\n`spinebench publish`"  # in every card written here (`card`)


def refuse_foreign_repo(api, repo_id: str, existing: list[str]) -> None:
    """Stop before touching a repo that holds anything but an earlier publish: its README.md and files of the same
    names would be overwritten or mixed with ours.

    Raises:
        SpineBenchError: the repo holds other files, or a README.md that `spinebench publish` did not write.
    """
    others = sorted(
        name for name in existing
        if name not in (*OWN_FILES, ".gitattributes") and not name.startswith(("report/", "details/"))
    )  # fmt: skip
    readme = "README.md" in existing and CARD_MARK not in Path(
        api.hf_hub_download(repo_id, "README.md", repo_type="dataset")
    ).read_text(encoding="utf-8", errors="replace")
    if others or readme:
        held = ", ".join(others[:3]) if others else "a README.md that spinebench publish did not write"
        raise SpineBenchError(
            f"{repo_id}: holds {held}; publishing would overwrite or mix with it: give a new repo, or one that "
            "spinebench publish wrote"
        )


def _commit(api, repo_id: str, kind: str, folder: Path, existing: list[str], message: str) -> str:
    """Upload every file of `folder`, and delete what an earlier publish wrote that this one did not."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    rewritten = ("report/",) if kind == "dataset" else ("",)
    stale = [
        name
        for name in existing
        if name not in files and name != ".gitattributes" and (name in OWN_FILES or name.startswith(rewritten))
    ]
    operations = [CommitOperationAdd(name, str(path)) for name, path in files.items()]
    operations += [CommitOperationDelete(name) for name in stale]
    commit = api.create_commit(repo_id, operations, repo_type=kind, commit_message=message)
    return str(getattr(commit, "commit_url", None) or getattr(commit, "oid", commit))


def publish_space(api, scored: pd.DataFrame, runs, space: str, public: bool, withheld: dict[str, str],
                  infos: dict) -> str:  # fmt: skip
    """The leaderboard of every model as a static Space."""
    from .leaderboard import write_leaderboard

    with tempfile.TemporaryDirectory(prefix="spinebench-space-") as staging:
        folder = Path(staging)
        write_leaderboard(scored, folder, lambda ids: case_images(runs, ids), withheld, **about(infos))
        api.create_repo(space, repo_type="space", space_sdk="static", private=not public, exist_ok=True)
        existing = api.list_repo_files(space, repo_type="space")
        return _commit(api, space, "space", folder, existing, "SpineBench leaderboard, written by spinebench-hf")
