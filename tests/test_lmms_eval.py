"""SpineBench in lmms-eval: the task folder, scores equal to the lighteval path, the stale-cache refusal, and
lmms-eval's own CLI on the built dataset with a tiny random local LLaVA (its llava_hf backend)."""

import json
import shutil
import subprocess
import sys

import datasets
import pytest
from conftest import ROW, prerequisite
from PIL import Image

from spinebench_hf.cli import main
from spinebench_hf.evaluation.lmms_eval_task import check_dataset, doc_to_messages, process_results, write_task_folder

DOC = ROW | {"question": ROW["question"], "disease": 4, "source": 2}


def test_the_image_follows_the_verbatim_prompt():
    (message,) = doc_to_messages(DOC | {"image": Image.new("L", (4, 4))})
    text, image = message["content"]
    assert text["type"] == "text" and text["text"].startswith("This is a simulated medical scenario")
    assert image["type"] == "image" and image["url"].mode == "RGB"


def test_the_task_folder_records_the_fingerprint_and_refuses_a_rebuilt_dataset(built, tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(built / "data", data)
    monkeypatch.setenv("SPINEBENCH_DATA", str(data))
    assert main(["lmms-eval-tasks", "--output", str(tmp_path / "tasks")]) == 0
    folder = tmp_path / "tasks"
    assert capsys.readouterr().out.strip() == str(folder)
    fingerprint = json.loads((data / "build_report.json").read_text())["fingerprint"]
    yaml_text = (folder / "spinebench_diagnosis.yaml").read_text()
    assert (
        f"spinebench_fingerprint: {fingerprint}" in yaml_text and "test_split: sub" in yaml_text
    )  # hashed by lmms-eval
    assert "max_new_tokens: 1024" in yaml_text and "include: _spinebench_template_yaml" in yaml_text
    template = (folder / "_spinebench_template_yaml").read_text()
    assert "cluster_key: study_id" in template and "reasoning_tags: none" in template
    assert {p.name for p in folder.iterdir()} >= {"spinebench.yaml", "spinebench_localization_full.yaml", "utils.py"}
    settings = folder / "spinebench_dataset.json"
    assert check_dataset("rows", settings) == "rows"
    report = json.loads((data / "build_report.json").read_text())
    (data / "build_report.json").write_text(json.dumps(report | {"fingerprint": "rebuilt" + fingerprint[7:]}))
    with pytest.raises(ValueError, match="was rebuilt .* run `spinebench lmms-eval-tasks` again"):
        check_dataset("rows", settings)  # the stale folder refuses: no reply cached for old questions is reused


@pytest.mark.slow
def test_lmms_evals_own_cli_runs_both_tasks_and_the_report_reads_its_logs(built, tmp_path):
    prerequisite("lmms_eval", "the lmms extra: pip install -e '.[lmms]'")
    from tiny_vlm import build as build_vlm

    from spinebench_hf.report.details import scored_questions
    from spinebench_hf.report.tables import paper_rows

    build_vlm(str(tmp_path / "vlm"))
    folder = write_task_folder(built / "data", tmp_path / "tasks")
    command = [
        sys.executable,
        "-m",
        "lmms_eval",
        "--model",
        "llava_hf",
        "--model_args",
        f"pretrained={tmp_path / 'vlm'},device_map=cpu",
        "--device",
        "cpu",
        "--tasks",
        "spinebench",
        "--include_path",
        str(folder),
        "--log_samples",
        "--output_path",
        str(tmp_path / "out"),
        "--gen_kwargs",
        "max_new_tokens=12",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert done.returncode == 0 and "Error during evaluation" not in done.stdout + done.stderr, done.stderr[-3000:]
    scored = scored_questions([tmp_path / "out"])
    expected = {
        c: len(datasets.load_dataset(str(built / "data"), c, split="sub")) for c in ("diagnosis", "localization")
    }
    assert scored.task.value_counts().to_dict() == expected  # every question of both tasks, once
    for row in scored.itertuples():  # the logged scores are our metrics on the logged replies
        assert (
            process_results(
                {
                    "id": row.id,
                    "image_id": row.image_id,
                    "task": row.task,
                    "study_id": row.study_id,
                    "source": row.source,
                    "disease": row.disease,
                    "modality": row.modality,
                    "question": row.question,
                    "options": row.options,
                    "answer": row.answer,
                },
                [row.reply],
            )["acc"]["score"]
            == row.acc
        )
    (results,) = (tmp_path / "out").rglob("*_results.json")
    numbers = json.loads(results.read_text())["results"]
    assert "acc_stderr_clustered,none" in numbers["spinebench_diagnosis"]
    (row,) = paper_rows(scored)
    assert row[1] == pytest.approx(numbers["spinebench_diagnosis"]["acc,none"])
    # what `spinebench publish` records of the run, read from lmms-eval's own files
    from spinebench_hf.report.runs import run_infos

    (info,) = run_infos([tmp_path / "out"]).values()
    fingerprint = json.loads((built / "data" / "build_report.json").read_text())["fingerprint"]
    assert (info.harness, info.backend, info.dataset_kind, info.dataset_fingerprint) == (
        "lmms-eval", "llava_hf", "build", fingerprint
    )  # fmt: skip
    assert info.harness_version and info.generation.get("max_new_tokens") == 12


@pytest.mark.slow
def test_lmms_evals_own_cli_hands_our_parser_the_raw_reply_and_the_group_shows_overall(built, tmp_path):
    """lmms-eval's default `--reasoning_tags` would strip the reasoning itself; the task sets `none`, so our parser
    reads every reply as the other harnesses do. Served by a local OpenAI-compatible server (lmms-eval's `openai`)."""
    prerequisite("lmms_eval", "the lmms extra: pip install -e '.[lmms]'")
    from conftest import ChatServer, completion

    from spinebench_hf.metrics import score_reply
    from spinebench_hf.report.details import scored_questions

    reply = "<think>a</think>My final option: [C]\n<think>b</think>I am not sure any more."
    server = ChatServer([completion(reply)])
    try:
        folder = write_task_folder(built / "data", tmp_path / "tasks")
        command = [
            sys.executable,
            "-m",
            "lmms_eval",
            "--model",
            "openai",
            "--model_args",
            f"model_version=served,base_url={server.url},api_key=EMPTY,max_retries=1",
            "--tasks",
            "spinebench",
            "--include_path",
            str(folder),
            "--log_samples",
            "--output_path",
            str(tmp_path / "out"),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    finally:
        server.close()
    assert done.returncode == 0 and "Error during evaluation" not in done.stdout + done.stderr, done.stderr[-3000:]
    scored = scored_questions([tmp_path / "out"])
    assert len(scored) and set(scored.reply) == {reply}  # the raw reply reached our parser
    for row in scored.itertuples():
        expected = score_reply(reply, row.task, row.options, row.answer)
        assert (tuple(row.extracted), row.stage, row.acc) == (
            tuple(expected.letters or ()),
            expected.stage,
            expected.scores["acc_rules"],
        )
    (results,) = (tmp_path / "out").rglob("*_results.json")
    group = json.loads(results.read_text())["results"]["spinebench"]
    assert not any(key.startswith(("jaccard", "acc,", "precision", "recall", "f1")) for key in group)
    numbers = json.loads(results.read_text())["results"]
    overall = (numbers["spinebench_diagnosis"]["acc,none"] + numbers["spinebench_localization"]["acc,none"]) / 2
    assert group["overall,none"] == pytest.approx(overall)
