"""The shape of the package: stages import one way, the task file stays light, stored contracts are fixed."""

import ast
from pathlib import Path

import pytest
from conftest import ROOT, run_python

PACKAGE = ROOT / "spinebench_hf"
STAGES = ("sources", "embedding", "construction", "evaluation", "report")
# stage -> the stages it must never import
FORBIDDEN = {
    "evaluation": {"sources", "construction", "report"},
    "report": {"sources", "construction", "evaluation"},
    "embedding": {"sources", "construction", "evaluation", "report"},
    "sources": {"embedding", "construction", "evaluation", "report"},
}
CORE = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__", "cli", "demo", "builder"}


def imported_modules(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every spinebench_hf module a file imports (relative imports resolved), at any depth in the file."""
    package = ["spinebench_hf", *path.relative_to(root).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("spinebench_hf")}


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_the_tree_shows_the_stages():
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} == set(STAGES)
    assert CORE == {
        "dataset_files",
        "errors",
        "imaging",
        "labels",
        "metrics",
        "parsing",
        "prompts",
        "schema",
        "seeding",
        "settings",
        "sqlite_store",
        "source_catalog",
    }


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_imports_go_one_way(stage):
    crossing = []
    for path in sorted((PACKAGE / stage).rglob("*.py")):
        for module in imported_modules(path):
            if stage_of(module) in FORBIDDEN[stage]:
                crossing.append(f"{path.relative_to(ROOT)} imports {module}")
    assert crossing == []


def test_the_core_imports_no_stage():
    crossing = [
        f"{name}.py imports {module}"
        for name in sorted(CORE)
        for module in imported_modules(PACKAGE / f"{name}.py")
        if stage_of(module)
    ]
    assert crossing == []


def test_the_checker_sees_a_crossing(tmp_path):
    """Relative imports are resolved, inside functions too: a report module importing the build is caught."""
    path = tmp_path / "report" / "x.py"
    path.parent.mkdir()
    path.write_text("from . import plots\n\ndef f():\n    from ..construction.pipeline import build\n")
    modules = imported_modules(path, tmp_path)
    assert {"spinebench_hf.report.plots", "spinebench_hf.construction.pipeline"} <= modules
    assert {stage_of(m) for m in modules} & FORBIDDEN["report"] == {"construction"}


@pytest.mark.slow
def test_the_task_file_loads_no_reader_no_build_no_pydicom():
    code = (
        "import runpy, sys; runpy.run_path('tasks/spinebench.py'); "
        "print(sorted(m for m in sys.modules if m == 'pydicom' or m.startswith(('spinebench_hf.sources', "
        "'spinebench_hf.construction', 'spinebench_hf.embedding', 'open_clip'))))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_the_public_api_is_lazy_where_it_is_heavy():
    code = (
        "import sys, spinebench_hf; before = 'pydicom' in sys.modules; "
        "from spinebench_hf import standardize_dicom, parse_final_options, READERS; "
        "print(before, 'pydicom' in sys.modules, sorted(READERS))"
    )
    result = run_python(code)
    assert result.stdout.split("\n")[0] == "False True ['buu', 'csxa', 'rsna', 'vindr']", result.stderr[-2000:]


def test_settings_are_read_in_one_place():
    """Only settings.py reads the environment (demo.py only passes it on to its lighteval runs), every
    SPINEBENCH_* variable it reads is documented there, and shared constants are assigned once."""
    import re

    from spinebench_hf.settings import VARIABLES

    readers, assignments = [], {}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        if path.name != "settings.py" and re.search(r"os\.environ(\.get|\[)|os\.getenv", text):
            readers.append(path.name)
        for name in ("LETTERS", "METRIC_NAMES", "MODEL_FILES", "SOURCE_NAMES", "DEFAULT_ENCODER", "GENERATION_SIZE"):
            assignments[name] = assignments.get(name, 0) + len(re.findall(rf"^{name} = ", text, re.MULTILINE))
    assert readers == []
    assert all(count == 1 for count in assignments.values()), assignments
    used = set(re.findall(r'"(SPINEBENCH_[A-Z_]+)"', (PACKAGE / "settings.py").read_text()))
    assert used == set(VARIABLES)
