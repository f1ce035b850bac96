"""SpineBench entry point beside the project (datasets ≥ 4 runs no loading scripts: see docs/design.md).

Importing it exposes the builder class; running it builds the dataset folder, exactly like `spinebench build`:

    python loading_script.py --csxa CSXA/ --vindr vindr.tar.gz --output spinebench
    from datasets import load_dataset; load_dataset("spinebench", "diagnosis", split="sub")
"""

import sys

from spinebench_hf.builder import SpineBench
from spinebench_hf.cli import main

__all__ = ["SpineBench"]

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
