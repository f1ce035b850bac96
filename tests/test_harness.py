"""The lighteval side: Docs, scoring, and lighteval 0.13's defects, each shown and fixed."""

import os
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest
from lighteval.models.model_output import ModelResponse
from PIL import Image

from spinebench_hf import lighteval_compat
from spinebench_hf.harness import SpineBenchScore, spinebench_doc, tasks_table
from spinebench_hf.prompts import build_prompt

ROOT = Path(__file__).resolve().parents[1]
ROW = {"id": "rsna/1/2/3/localization/spinal-canal-stenosis", "image_id": "rsna/1/2/3", "task": "localization",
       "question": "What is the site of the disease in the spine?", "options": ["L2/L3", "L1/L2", "L5/S1", "L4/L5", "L3/L4"],
       "answer": ["B", "D"], "source": 2, "disease": 4, "modality": "MRI", "study_id": "1",
       "image": Image.new("RGB", (8, 8))}


def test_doc_carries_prompt_image_and_gold():
    doc = spinebench_doc(ROW, "spinebench:localization")
    assert doc.query == build_prompt(ROW) and doc.images == [ROW["image"]]
    assert doc.choices == ["A", "B", "C", "D", "E"] and doc.gold_index == [1, 3]
    assert doc.specific["id"] == ROW["id"] and doc.specific["answer"] == ["B", "D"]


@pytest.mark.parametrize("text", ["<think>maybe [A]</think>\nMy final options: [B, D]",
                                  ["<think>maybe [A]</think>\nMy final options: [D, B]"]])
def test_scoring_records_the_extraction(text):
    doc = spinebench_doc(ROW, "spinebench:localization")
    scores = SpineBenchScore("localization").compute(doc, ModelResponse(text=text))
    assert scores == {"acc": 1.0, "acc_rules": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0, "jaccard": 1.0,
                      "format_compliance": 1.0, "judge_rescue": 0.0}
    assert doc.specific["extracted"] == ["B", "D"] and doc.specific["extraction_stage"] == "marker"
    assert doc.specific["reply"].startswith("<think>maybe [A]</think>")  # the raw reply is kept


def test_task_table_names_and_splits():
    table = {config.name: config for config in tasks_table()}
    assert set(table) == {"spinebench:diagnosis", "spinebench:localization", "spinebench:diagnosis_full",
                          "spinebench:localization_full", "spinebench:diagnosis_blind", "spinebench:localization_blind",
                          "spinebench:diagnosis_circular"}
    assert table["spinebench:diagnosis_circular"].hf_repo.endswith("-circular")
    assert list(table["spinebench:diagnosis"].evaluation_splits) == ["sub"]
    assert list(table["spinebench:localization_full"].evaluation_splits) == ["full"]
    assert table["spinebench:localization"].hf_subset == "localization"


# --- lighteval 0.13 defects -----------------------------------------------------------------------------
def test_fixes_are_for_the_pinned_version_only():
    assert version("lighteval").startswith(lighteval_compat.FIXED_VERSIONS)  # else re-check every defect below


def test_defect_xxhash_refuses_str():
    import xxhash

    if int(version("xxhash").split(".")[0]) >= 4:
        with pytest.raises(TypeError):
            xxhash.xxh64("a query")  # what lighteval's details logger does with doc.query
    module = type(sys)("fake_info_loggers")
    module.xxhash = xxhash
    lighteval_compat.encode_str_for_xxhash(module)
    assert module.xxhash.xxh64("a query").hexdigest() == xxhash.xxh64(b"a query").hexdigest()


def test_defect_vlm_text_is_a_str():
    from lighteval.utils.utils import remove_reasoning_tags

    def post_process(response):  # what lighteval's Pipeline._post_process_outputs does
        response.text_post_processed = [remove_reasoning_tags(t, [("<think>", "</think>")]) for t in response.text]
        return response.final_text

    assert post_process(ModelResponse(text="A C D B")) == ["A", " ", "C", " ", "D", " ", "B"]  # the defect
    (fixed,) = lighteval_compat.listify_vlm_text([ModelResponse(text="<think>x</think>A C D B")])
    assert post_process(fixed) == ["A C D B"]


def registry_run(disable: bool):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               SPINEBENCH_NO_LIGHTEVAL_PATCHES="1" if disable else "0")
    code = ("from lighteval.tasks.registry import Registry; "
            f"configs = Registry.load_all_task_configs(custom_tasks={str(ROOT / 'tasks' / 'spinebench.py')!r}); "
            "print(sorted(name for name in configs if name.startswith('spinebench')))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_defects_offline_and_hub2_stop_the_registry_and_the_hook_fixes_them():
    broken = registry_run(disable=True)
    assert broken.returncode != 0
    assert "tinyBenchmarks" in broken.stderr or "list_models() got an unexpected keyword" in broken.stderr
    fixed = registry_run(disable=False)
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert fixed.stdout.strip().splitlines()[-1] == (
        "['spinebench:diagnosis', 'spinebench:diagnosis_blind', 'spinebench:diagnosis_circular', "
        "'spinebench:diagnosis_full', 'spinebench:localization', 'spinebench:localization_blind', "
        "'spinebench:localization_full']")


def test_defect_hub2_breaks_builtin_task_imports_and_the_registry_skips_them():
    if int(version("huggingface_hub").split(".")[0]) >= 2:
        code = "import lighteval.tasks.tasks.mt_bench.main"
        env = dict(os.environ, SPINEBENCH_NO_LIGHTEVAL_PATCHES="1")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode != 0 and "list_models() got an unexpected keyword argument" in result.stderr
    registry = type(sys)("fake_registry")

    class Registry:
        _extract_configs = staticmethod(lambda module: {"found": module.__name__})

    registry.Registry = Registry
    lighteval_compat.tolerate_broken_builtin_tasks(registry)
    loaded = Registry._load_from_files([Path("utils.py"), Path("no_such_module_here.py")], "email")
    assert loaded == {"found": "email.utils"}  # the module that cannot be imported is skipped, the others load


GATHER_SCRIPT = textwrap.dedent("""
    import json, sys
    import torch
    from accelerate import Accelerator
    from accelerate.utils import gather_object
    from torch.utils.data import DataLoader
    from spinebench_hf.lighteval_compat import gather_without_padding
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


def torchrun(args, env=None, timeout=600):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, ACCELERATE_USE_CPU="true", OMP_NUM_THREADS="1", **(env or {})))


def test_defect_data_parallel_gather_keeps_padding(tmp_path):
    import json

    script = tmp_path / "gather.py"
    script.write_text(GATHER_SCRIPT)
    result = torchrun([str(script)], env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    gathered = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(gathered["plain"]) > 5 and set(gathered["plain"]) == {f"r{i}" for i in range(5)}  # padding kept
    assert sorted(gathered["fixed"]) == [f"r{i}" for i in range(5)]
