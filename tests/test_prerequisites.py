"""`pytest` anywhere: a test whose prerequisite is missing (a browser, an extra) is skipped with what to install,
except on CI (CI=true), where it fails."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT

PROBE = """
from conftest import prerequisite, program

def test_needs_a_browser():
    program("/nonexistent/chromium", "apt-get install chromium chromium-driver")

def test_needs_an_extra():
    prerequisite("a_module_nobody_installed", "pip install -e '.[nothing]'")
"""


@pytest.mark.slow
@pytest.mark.parametrize("ci, outcome", [("", "2 skipped"), ("true", "2 failed")])
def test_missing_prerequisites_skip_with_a_reason_except_on_ci(tmp_path, ci, outcome):
    probe = ROOT / "tests" / f"test_zz_probe_{os.getpid()}_{ci or 'local'}.py"
    probe.write_text(PROBE)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(probe)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=dict(os.environ, CI=ci),
            timeout=300,
        )
    finally:
        probe.unlink()
    assert outcome in done.stdout, done.stdout[-2000:]
    if not ci:
        assert "needs /nonexistent/chromium: apt-get install chromium chromium-driver" in done.stdout
        assert "needs pip install -e '.[nothing]'" in done.stdout
