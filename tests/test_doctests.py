"""The examples in the public API's docstrings run and hold."""

import doctest
import importlib

import pytest

MODULES = [
    "spinebench_hf.labels",
    "spinebench_hf.metrics",
    "spinebench_hf.parsing",
    "spinebench_hf.prompts",
    "spinebench_hf.evaluation.judge",
    "spinebench_hf.evaluation.lmms_eval_task",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
