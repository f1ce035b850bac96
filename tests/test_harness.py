"""The lighteval side: Docs, scoring, and lighteval 0.13's defects, each shown and fixed."""

import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import ROOT, ROW, run_python, torchrun
from lighteval.models.model_output import ModelResponse

from spinebench_hf.evaluation import lighteval_fixes
from spinebench_hf.evaluation.lighteval_task import SpineBenchScore, spinebench_doc, tasks_table
from spinebench_hf.prompts import build_prompt

SPINEBENCH_TASKS = (
    "['spinebench:diagnosis', 'spinebench:diagnosis_blind', 'spinebench:diagnosis_circular', "
    "'spinebench:diagnosis_full', 'spinebench:localization', 'spinebench:localization_blind', "
    "'spinebench:localization_full']"
)


def test_doc_carries_prompt_image_and_gold():
    doc = spinebench_doc(ROW, "spinebench:localization")
    assert doc.query == build_prompt(ROW) and doc.images == [ROW["image"]]
    assert doc.choices == ["A", "B", "C", "D", "E"] and doc.gold_index == [1, 3]
    assert doc.specific["id"] == ROW["id"] and doc.specific["answer"] == ["B", "D"]


@pytest.mark.parametrize(
    "text",
    ["<think>maybe [A]</think>\nMy final options: [B, D]", ["<think>maybe [A]</think>\nMy final options: [D, B]"]],
)
def test_scoring_records_the_extraction(text):
    doc = spinebench_doc(ROW, "spinebench:localization")
    scores = SpineBenchScore("localization").compute(doc, ModelResponse(text=text))
    assert scores == {
        "acc": 1.0,
        "acc_rules": 1.0,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "jaccard": 1.0,
        "format_compliance": 1.0,
        "judge_rescue": 0.0,
    }
    assert doc.specific["extracted"] == ["B", "D"] and doc.specific["extraction_stage"] == "marker"
    assert doc.specific["reply"].startswith("<think>maybe [A]</think>")  # the raw reply is kept


def test_task_table_names_and_splits():
    table = {config.name: config for config in tasks_table()}
    assert set(table) == {
        "spinebench:diagnosis",
        "spinebench:localization",
        "spinebench:diagnosis_full",
        "spinebench:localization_full",
        "spinebench:diagnosis_blind",
        "spinebench:localization_blind",
        "spinebench:diagnosis_circular",
    }
    assert table["spinebench:diagnosis_circular"].hf_repo.endswith("-circular")
    assert list(table["spinebench:diagnosis"].evaluation_splits) == ["sub"]
    assert list(table["spinebench:localization_full"].evaluation_splits) == ["full"]
    assert table["spinebench:localization"].hf_subset == "localization"


# --- lighteval 0.13 defects: each shown, then fixed (by a pin or in-process) -------------------------------
def test_fixes_are_for_the_pinned_version_only():
    assert version("lighteval").startswith(lighteval_fixes.FIXED_VERSIONS)  # else re-check every defect below


@pytest.mark.slow
def test_pins_keep_the_hub2_and_xxhash4_defects_away():
    """huggingface_hub 2.x breaks lighteval's built-in mt_bench at import; xxhash 4.x refuses the str its details
    logger hashes. pyproject pins both below those versions, so the registry loads and the logger hashes."""
    import xxhash

    assert int(version("huggingface_hub").split(".")[0]) < 2 and int(version("xxhash").split(".")[0]) < 4
    assert xxhash.xxh64("a query").hexdigest() == xxhash.xxh64(b"a query").hexdigest()
    loaded = run_python("import lighteval.tasks.tasks.mt_bench.main")
    assert loaded.returncode == 0, loaded.stderr[-2000:]


REGISTRY = (
    "from spinebench_hf.evaluation.lighteval_fixes import stub_offline_downloads\n"
    "if {stub}: stub_offline_downloads()\n"
    "from lighteval.tasks.registry import Registry\n"
    f"configs = Registry.load_all_task_configs(custom_tasks={str(ROOT / 'tasks' / 'spinebench.py')!r})\n"
    "print(sorted(name for name in configs if name.startswith('spinebench')))"
)


@pytest.mark.slow
def test_defect_offline_registry_downloads_and_the_stub_fixes_it():
    broken = run_python(REGISTRY.format(stub=False))
    assert broken.returncode != 0 and "tinyBenchmarks" in broken.stderr
    assert run_python(REGISTRY.format(stub=True), SPINEBENCH_NO_LIGHTEVAL_PATCHES="1").returncode != 0  # switched off
    fixed = run_python(REGISTRY.format(stub=True))
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert fixed.stdout.strip().splitlines()[-1] == SPINEBENCH_TASKS


def test_defect_vlm_text_is_a_str():
    from lighteval.utils.utils import remove_reasoning_tags

    def post_process(response):  # what lighteval's Pipeline._post_process_outputs does
        response.text_post_processed = [remove_reasoning_tags(t, [("<think>", "</think>")]) for t in response.text]
        return response.final_text

    assert post_process(ModelResponse(text="A C D B")) == ["A", " ", "C", " ", "D", " ", "B"]  # the defect
    (fixed,) = lighteval_fixes.listify_vlm_text([ModelResponse(text="<think>x</think>A C D B")])
    assert post_process(fixed) == ["A C D B"]


@pytest.mark.slow
def test_the_task_file_fixes_the_vlm_backend_in_its_own_process_only():
    code = (
        "import runpy, sys\n"
        "from lighteval.models.transformers import vlm_transformers_model as vlm\n"
        "before = vlm.gather_object.__name__\n"
        "runpy.run_path('tasks/spinebench.py')\n"
        "print(before, vlm.gather_object.__name__, vlm.VLMTransformersModel.greedy_until.__wrapped__ is not None,\n"
        "      'pydicom' in sys.modules,\n"
        "      any(m.startswith(('spinebench_hf.sources', 'spinebench_hf.construction')) for m in sys.modules))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["gather_object", "gather_without_padding", "True", "False", "False"]
    untouched = run_python(
        "from lighteval.models.transformers import vlm_transformers_model as vlm; print(vlm.gather_object.__name__)"
    )
    assert untouched.stdout.split() == ["gather_object"]  # nothing of ours runs where it was not asked for
    switched_off = run_python(
        code.replace("print(before, ", "print(before, ").replace(
            "vlm.VLMTransformersModel.greedy_until.__wrapped__ is not None", "True"
        ),
        SPINEBENCH_NO_LIGHTEVAL_PATCHES="1",
    )
    assert switched_off.stdout.split()[:2] == ["gather_object", "gather_object"]


def test_no_startup_hook_is_installed():
    """The package installs no .pth of its own (an editable install's __editable__ file is setuptools' loader)."""
    from importlib.metadata import files

    installed = [str(f) for f in files("spinebench-hf") or ()]
    assert [f for f in installed if f.endswith(".pth") and not Path(f).name.startswith("__editable__")] == []
    assert not any("lighteval_hook" in f for f in installed)


GATHER_SCRIPT = textwrap.dedent("""
    import json, sys
    import torch
    from accelerate import Accelerator
    from accelerate.utils import gather_object
    from torch.utils.data import DataLoader
    from spinebench_hf.evaluation.lighteval_fixes import gather_without_padding
    accelerator = Accelerator(cpu=True)
    loader = accelerator.prepare(DataLoader([f"r{i}" for i in range(5)], batch_size=2))  # pads the last batch
    plain, fixed = [], []
    for batch in loader:
        plain += gather_object(list(batch))
        fixed += gather_without_padding(list(batch))
    if accelerator.is_main_process:
        print(json.dumps({"plain": plain, "fixed": fixed}), flush=True)
    accelerator.wait_for_everyone()
    torch.distributed.destroy_process_group()  # a live gloo group aborts the process at exit
""")


@pytest.mark.slow
def test_defect_data_parallel_gather_keeps_padding(tmp_path):
    import json

    script = tmp_path / "gather.py"
    script.write_text(GATHER_SCRIPT)
    result = torchrun([str(script)], env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    gathered = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(gathered["plain"]) > 5 and set(gathered["plain"]) == {f"r{i}" for i in range(5)}  # padding kept
    assert sorted(gathered["fixed"]) == [f"r{i}" for i in range(5)]
