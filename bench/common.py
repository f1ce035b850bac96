"""What every bench script shares: side-by-side timing, the machine's description, and RESULTS.md sections.

Each script measures our code and the bare libraries in the same process, alternating them so that drift in the
machine's speed hits both, and rewrites only its own section of bench/RESULTS.md (and bench/results/<name>.json,
which the projection script reads).
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))  # measure the working tree's spinebench_hf, not an installed copy
RESULTS_MD = BENCH / "RESULTS.md"
RESULTS_JSON = BENCH / "results"
HEADER = """# SpineBench-HF benchmarks

Measured by the scripts in `bench/` (run by hand, not by CI). Each section says the machine, the date and the
command that produced it; our code and its floor (the bare libraries doing the same work) are timed in one run,
alternately, and the ratio is what counts. Re-run a script to refresh its section; `python bench/run_all.py`
refreshes all of them.
"""


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(contenders: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median wall seconds of each callable; the callables take turns, so slow spells of the machine hit all."""
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            times[name].append(seconds(fn))
    return {name: statistics.median(values) for name, values in times.items()}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return float("nan")


def versions(*packages: str) -> str:
    found = []
    for package in packages:
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def machine(*packages: str) -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return (
        f"{cpu_model()}, {cores} cores available, {memory_gib():.0f} GiB RAM, {gpu}; "
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}; "
        f"{versions('spinebench-hf', 'numpy', *packages)}"
    )


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "spinebench_hf"], cwd=BENCH.parent, capture_output=True, text=True
        ).stdout.strip()
        return out.stdout.strip() + (" + uncommitted changes" if dirty else "")
    except OSError:
        return "unknown"


def table(headers: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
        return f"{value:,}" if isinstance(value, int) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def peak_rss_mib() -> float:
    """This process's peak resident set. Not getrusage's ru_maxrss: Linux carries the forked parent's RSS across
    exec into it, so a child of a big parent (a script, after writing its samples) would report the parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verdict(met: bool) -> str:
    return "**met**" if met else "**NOT met**"


def record(name: str, title: str, body: str, data: dict, packages: tuple[str, ...] = ()) -> None:
    """Replace the script's section of RESULTS.md and its JSON file; print the section."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python " + " ".join([os.path.relpath(sys.argv[0], BENCH.parent), *sys.argv[1:]])
    section = (
        f"<!-- bench:{name} -->\n## {title}\n\n"
        f"- Date: {stamp}; code: {git_commit()}\n- Machine: {machine(*packages)}\n- Command: `{command}`\n\n"
        f"{body.strip()}\n<!-- /bench:{name} -->"
    )
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else HEADER
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    RESULTS_MD.write_text(_ordered(text))
    RESULTS_JSON.mkdir(exist_ok=True)
    (RESULTS_JSON / f"{name}.json").write_text(
        json.dumps({"date": stamp, "machine": machine(*packages), **data}, indent=1, sort_keys=True) + "\n"
    )
    print(section)


ORDER = ("standardize", "embedding", "mining", "harness", "build_scale", "projection", "sweep", "release_import")


def _ordered(text: str) -> str:
    """Keep the sections in order (a)…(g), whichever script ran last."""
    sections = {
        m.group(2): m.group(1) for m in re.finditer(r"(<!-- bench:(\w+) -->.*?<!-- /bench:\2 -->)", text, re.S)
    }
    known = [sections[name] for name in ORDER if name in sections]
    others = [body for name, body in sections.items() if name not in ORDER]
    return HEADER + "\n" + "\n\n".join(known + others) + "\n"
