"""What produced each model's replies: the harness and its version, the generation settings, and the dataset it
ran on (build or imported release, its fingerprint, the spinebench-hf version that made it). Read from the files
each harness writes beside its per-sample output; what a run did not record stays None, never guessed.

- lighteval: `<root>/results/<model>/results_<stamp>.json` for `<root>/details/<model>/<stamp>/details_*.parquet`
  (`config_general.model_config.generation_parameters`; the dataset folder is each task's `hf_repo`);
- lmms-eval: `<stamp>_results.json` beside `<stamp>_samples_spinebench_<task>.jsonl` (`lmms_eval_version`,
  `config.gen_kwargs` and the task's `generation_kwargs`; the dataset folder is the task's `dataset_path`);
- `spinebench sweep`: `run.json` beside its details (written by the sweep).

Local paths (model files, dataset folders, servers) are never part of what is returned: it is published.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..dataset_files import REPORTS
from ..schema import SWEEP_RUN_FILE
from .details import details_files, model_name


@dataclass(frozen=True)
class RunInfo:
    """What is known of how one model's replies were produced (None: the run did not record it)."""

    harness: str  # lighteval, lmms-eval or spinebench sweep
    harness_version: str | None = None
    backend: str | None = None  # the sweep's backend, or lmms-eval's model class
    generation: dict = field(default_factory=dict)  # the generation settings that were set
    dataset_kind: str | None = None  # "build" or "release import"
    dataset_fingerprint: str | None = None
    dataset_spinebench_version: str | None = None  # the spinebench-hf that built or imported the dataset
    dataset_synthetic: str | None = None  # the build's note where it was made from drawings (`spinebench demo`)

    def as_dict(self) -> dict:
        """The fields, for a card or a JSON file."""
        return asdict(self)


def _json(path: Path) -> dict:
    """A JSON object file, or {} where it is missing or unreadable (metadata is optional, the scores are not)."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _set(values: dict | None) -> dict:
    """The settings that were given (None and empty values dropped), keys sorted."""
    return {key: values[key] for key in sorted(values or {}) if values[key] not in (None, "", [], {})}


def dataset_facts(folder: object) -> dict:
    """What the dataset folder's build or import report says of it; {} where the folder is not on this machine."""
    if not isinstance(folder, str) or not folder:
        return {}
    for name in REPORTS:
        report = _json(Path(folder) / name)
        if report:
            return {
                "dataset_kind": "release import" if name == "import_report.json" else "build",
                "dataset_fingerprint": report.get("fingerprint"),
                "dataset_spinebench_version": report.get("spinebench_hf"),
                "dataset_synthetic": report.get("synthetic") if isinstance(report.get("synthetic"), str) else None,
            }
    return {}


def lighteval_info(details: Path) -> RunInfo:
    """A lighteval run, from the results file of the same timestamp."""
    stamp, model_folder = details.parent.name, details.parent.parent
    root = next((p.parent for p in details.parents if p.name == "details"), None)
    if root is None:  # a details file taken out of its run folder: nothing beside it to read
        return RunInfo(harness="lighteval")
    results = _json(root / "results" / model_folder.relative_to(root / "details") / f"results_{stamp}.json")
    model_config = results.get("config_general", {}).get("model_config", {})
    tasks = results.get("config_tasks", {})
    folder = next((task.get("hf_repo") for task in tasks.values() if isinstance(task, dict)), None)
    return RunInfo(
        harness="lighteval",
        generation=_set(model_config.get("generation_parameters") if isinstance(model_config, dict) else None),
        **dataset_facts(folder),
    )


def lmms_info(samples: Path) -> RunInfo:
    """An lmms-eval run, from the results file of the same timestamp."""
    stamp = samples.name.split("_samples_", 1)[0]
    results = _json(samples.with_name(f"{stamp}_results.json"))
    task = next((c for c in results.get("configs", {}).values() if isinstance(c, dict)), {})
    config = results.get("config", {}) if isinstance(results.get("config"), dict) else {}
    generation = _set(task.get("generation_kwargs")) | _set(config.get("gen_kwargs"))
    return RunInfo(
        harness="lmms-eval",
        harness_version=results.get("lmms_eval_version")
        if isinstance(results.get("lmms_eval_version"), str)
        else None,
        backend=config.get("model") if isinstance(config.get("model"), str) else None,
        generation=generation,
        **dataset_facts(task.get("dataset_path")),
    )


def sweep_info(details: Path) -> RunInfo:
    """A `spinebench sweep` run, from the run.json it wrote beside the details."""
    recorded = _json(details.with_name(SWEEP_RUN_FILE))
    if not recorded:
        return RunInfo(harness="spinebench sweep")
    return RunInfo(
        harness="spinebench sweep",
        harness_version=recorded.get("spinebench_hf"),
        backend=recorded.get("backend"),
        generation=_set(recorded.get("generation")),
        **({"dataset_fingerprint": recorded.get("fingerprint")} | dataset_facts(recorded.get("dataset"))),
    )


def run_info(path: Path) -> RunInfo:
    """How the replies of one details parquet or samples jsonl were produced."""
    if path.suffix == ".jsonl":
        return lmms_info(path)
    if path.parent.name == "sweep" and path.stem.endswith("_sweep"):
        return sweep_info(path)
    return lighteval_info(path)


def run_infos(paths: Sequence[str | Path]) -> dict[str, RunInfo]:
    """What produced each model's replies, by model name (as `details.read_details` names the models).

    Args:
        paths: the outputs given to `details.read_details`.

    Returns:
        One RunInfo per model; where a model's files disagree (two tasks run on two datasets), the first one found
        in path order is kept for each field that one recorded, and the others fill what it left unknown.

    Raises:
        SpineBenchError: as `details.details_files` for paths that are not harness outputs.
    """
    found: dict[str, RunInfo] = {}
    for path in details_files(paths):
        model = path.parent.name if path.suffix == ".jsonl" else model_name(path)
        info = run_info(path)
        if model in found:
            known = found[model]
            info = replace(known, **{k: v for k, v in asdict(info).items() if getattr(known, k) in (None, {})})
        found[model] = info
    return found


def about_datasets(paths: Sequence[str | Path]) -> tuple[list[str], str | None]:
    """The fingerprints of the datasets the runs were on (sorted), and the synthetic-data note where one of them
    was built from drawings (else None)."""
    infos = run_infos(paths).values()
    fingerprints = sorted({info.dataset_fingerprint for info in infos if info.dataset_fingerprint})
    return fingerprints, next((info.dataset_synthetic for info in infos if info.dataset_synthetic), None)
