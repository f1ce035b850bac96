"""The design lives in the repository: what the code cites is in docs/, and no reference leads outside it."""

import re

from conftest import ROOT

OUTSIDE = re.compile(
    r"SPEC §|SPEC API|spec/[a-z-]+\.md|ecosystem-notes|paper-facts|style-anchors|anchors\.md|\.\./shared"
)
BARE_SOURCES = re.compile(r"(?<![/\w])sources\.md")  # the spec's file; inside docs/ a bare name is docs/'s own
CITED = re.compile(r"docs/([a-z-]+\.md)")
PATTERNS = (
    "spinebench_hf/**/*.py",
    "tests/**/*.py",
    "bench/**/*.py",
    "bench/*.md",
    "tasks/*.py",
    "docs/*.md",
    "*.md",
    "*.toml",
    "*.py",
    ".ci/run",
    "spinebench_hf/templates/**/*",
)


def project_files():
    for pattern in PATTERNS:
        yield from (path for path in ROOT.glob(pattern) if path.is_file() and ".venv" not in path.parts)


def outside_references(path):
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if OUTSIDE.search(line) or (path.parent.name != "docs" and BARE_SOURCES.search(line)):
            yield f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


def test_no_reference_leads_outside_the_repository():
    assert [
        found for path in project_files() if path.name != "test_docs.py" for found in outside_references(path)
    ] == []


def test_every_cited_document_exists():
    cited = {name for path in project_files() for name in CITED.findall(path.read_text(errors="replace"))}
    assert cited and all((ROOT / "docs" / name).is_file() for name in cited), sorted(cited)
    written = {path.name for path in (ROOT / "docs").iterdir()}
    assert {"design.md", "schema.md", "building.md", "scoring.md", "sources.md"} <= written
