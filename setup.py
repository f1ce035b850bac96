"""Only for the startup hook: copy spinebench_hf-lighteval.pth into the wheel's root (site-packages).

Everything else is in pyproject.toml. Editable installs (pip install -e) do not carry the .pth: there, run lighteval
as `spinebench eval ...`, which applies the same fixes (spinebench_hf/lighteval_compat.py).
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "spinebench_hf-lighteval.pth"


class BuildPyWithHook(build_py):
    def run(self):
        super().run()
        self.copy_file(PTH, os.path.join(self.build_lib, PTH))

    def get_outputs(self, include_bytecode=True):
        return [*super().get_outputs(include_bytecode), os.path.join(self.build_lib, PTH)]


setup(cmdclass={"build_py": BuildPyWithHook})
