"""Run every bench script in order, (a) to (h); each rewrites its own section of bench/RESULTS.md.

    python bench/run_all.py

About 20 minutes on 2 CPU cores; pass a script's own options by running it alone.
"""

import subprocess
import sys
from pathlib import Path

SCRIPTS = ("standardize", "embedding", "mining", "harness", "build_scale", "projection", "sweep", "release_import")

if __name__ == "__main__":
    for name in SCRIPTS:
        print(f"== bench/{name}.py", flush=True)
        subprocess.run([sys.executable, str(Path(__file__).with_name(f"{name}.py"))], check=True)
