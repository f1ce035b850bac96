"""Hostile input, end to end through the `spinebench` command: links out of the input, foreign output folders, a
full disk, Ctrl-C, servers answering 200 with garbage, look-alike sweep entries, formulas in replies, bad numbers.

Every case asserts what the user sees (no traceback, the exit code, one line naming the file or field) and that
nothing is lost: the user's files intact, every request answered or counted failed, no file from outside the input
in a dataset.
"""

import errno
import json
import os
import shutil
import zipfile
from pathlib import Path

import datasets
import pandas as pd
import pytest
from conftest import ChatServer, completion
from tiny_clip import register_tiny_model

from spinebench_hf.cli import main
from spinebench_hf.sources.synthetic import CsxaCase, write_csxa, write_release

DIAG = "spine_disease_classification"
OPTIONS = ["Osteophytes", "Healthy", "Vertebral collapse", "Disc space narrowing", "Foraminal stenosis"]


def record(image, answer="Healthy"):
    return {
        "image": image,
        "question": "What spinal disease does this patient have?",
        "task": DIAG,
        "answers": answer,
        "options": OPTIONS,
    }


def release(root: Path, records) -> Path:
    return write_release(root, {"evaluation/test.json": records})


def run(argv, capsys) -> tuple[int, str, str]:
    """The command's exit code, stdout and stderr; a traceback anywhere fails the test."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def tree_state(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def imported(tmp_path: Path, capsys, name="out") -> Path:
    """A small release imported into tmp_path/name."""
    source = release(tmp_path / f"release-{name}", [record("1.jpg"), record("2.jpg", "Osteophytes")])
    assert run(["import-release", source, "--output", tmp_path / name], capsys)[0] == 0
    return tmp_path / name


@pytest.fixture(scope="module")
def open_build(tmp_path_factory):
    """A CSXA-only build (a source whose images may be published), and its archive."""
    root = tmp_path_factory.mktemp("open")
    csxa = write_csxa(root / "csxa", [CsxaCase(n, 1 + n % 5) for n in range(1, 9)])
    argv = [
        "build",
        "--csxa",
        csxa,
        "--output",
        root / "data",
        "--cache-dir",
        root / "cache",
        "--encoder",
        register_tiny_model(),
        "--encoder-weights",
        "random",
        "--max-side",
        "48",
    ]
    with pytest.warns(UserWarning):
        assert main([str(arg) for arg in argv]) == 0
    return root, argv


def build_argv(open_build, output: Path) -> list:
    _, argv = open_build
    return [*argv[: argv.index("--output") + 1], output, *argv[argv.index("--output") + 2 :]]


# --- 1. nothing from outside the folder the user named ----------------------------------------------------------
def test_an_image_linked_out_of_the_release_is_never_read(tmp_path, capsys):
    secret = tmp_path / "private" / "patient.jpg"
    source = release(
        tmp_path / "release", [record("1.jpg"), record("2.jpg"), record("3.jpg", "Osteophytes"), record("d/4.jpg")]
    )
    secret.parent.mkdir()
    shutil.move(source / "evaluation" / "2.jpg", secret)
    (source / "evaluation" / "2.jpg").symlink_to(secret)  # a link to a file outside the release
    shutil.move(source / "evaluation" / "d", tmp_path / "private" / "d")
    (source / "evaluation" / "d").symlink_to(tmp_path / "private" / "d", target_is_directory=True)  # to a folder
    (source / "evaluation" / "3.jpg").unlink()
    (source / "evaluation" / "3.jpg").symlink_to(source / "evaluation" / "1.jpg")  # a link inside: fine
    code, out, _ = run(["import-release", source, "--output", tmp_path / "out"], capsys)
    assert code == 0 and "unsafe-member 3" in out
    report = json.loads((tmp_path / "out" / "import_report.json").read_text())
    unsafe = {skip["key"]: skip["reason"] for skip in report["skips"] if skip["kind"] == "unsafe-member"}
    assert set(unsafe) == {"evaluation/d/", "evaluation/test.json#2", "evaluation/test.json#4"}
    assert all("outside" in reason for reason in unsafe.values())
    rows = datasets.load_dataset(str(tmp_path / "out"), "diagnosis", split="full").cast_column(
        "image", datasets.Image(decode=False)
    )
    assert secret.read_bytes() not in {row["image"]["bytes"] for row in rows} and len(rows) == 2


def test_a_question_file_linked_out_of_the_release_is_never_read(tmp_path, capsys):
    source = release(tmp_path / "release", [record("1.jpg")])
    outside = release(tmp_path / "elsewhere", [record("9.jpg", "Osteophytes")])
    (source / "all").mkdir()
    (source / "all" / "train.json").symlink_to(outside / "evaluation" / "test.json")
    code, out, _ = run(["import-release", source, "--output", tmp_path / "out"], capsys)
    assert code == 0 and "unsafe-member 1" in out
    assert len(datasets.load_dataset(str(tmp_path / "out"), "diagnosis", split="full")) == 1


def test_a_link_out_of_a_source_folder_and_a_zip_member_that_is_a_link(tmp_path):
    from spinebench_hf.sources.archive import open_tree

    folder = tmp_path / "csxa"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "1.jpg").write_bytes(b"inside")
    (tmp_path / "secret.jpg").write_bytes(b"outside")
    (folder / "images" / "2.jpg").symlink_to(tmp_path / "secret.jpg")
    tree = open_tree(folder)
    assert tree.files() == ["images/1.jpg"] and not tree.exists("images/2.jpg")
    assert [name for name, _ in tree.rejected] == ["images/2.jpg"]
    with pytest.raises(KeyError):
        tree.open("images/2.jpg")
    archive = tmp_path / "csxa.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("images/1.jpg", b"inside")
        link = zipfile.ZipInfo("images/2.jpg")
        link.external_attr = 0o120777 << 16  # a symlink, as `zip --symlinks` stores it: its data is the target
        out.writestr(link, "/etc/passwd")
    zipped = open_tree(archive)
    assert zipped.files() == ["images/1.jpg"]
    assert zipped.rejected == [("images/2.jpg", "archive member 'images/2.jpg' is a link; it was not read")]


# --- 3 and 4. output folders: never mixed, never a user's file deleted, the previous dataset kept on failure ------
def test_an_import_over_a_build_leaves_no_trace_of_the_build_and_the_guard_sees_it(open_build, tmp_path, capsys):
    output = tmp_path / "data"
    shutil.copytree(open_build[0] / "data", output)
    assert (
        run(["import-release", release(tmp_path / "release", [record("1.jpg")]), "--output", output], capsys)[0] == 0
    )
    assert not (output / "build_report.json").exists()  # the build's report would vouch for the import
    code, _, err = run(["push", output, "--repo-id", "org/x", "--public"], capsys)
    assert code == 2 and "refusing a public upload" in err and "the authors' SpineBench release" in err


def test_the_guard_judges_the_rows_not_a_planted_report(open_build, tmp_path, capsys):
    output = imported(tmp_path, capsys)
    (output / "import_report.json").rename(output / "build_report.json")  # a report that says "a CSXA build"
    report = json.loads((open_build[0] / "data" / "build_report.json").read_text())
    (output / "build_report.json").write_text(json.dumps(report | {"files": {}}))
    code, _, err = run(["push", output, "--repo-id", "org/x", "--public"], capsys)
    assert code == 2 and "the authors' SpineBench release" in err and "files SpineBench did not write" in err


@pytest.mark.parametrize("planted", ["notes.txt", "diagnosis/my-analysis.csv", "README.md"])
def test_a_folder_holding_user_files_is_refused_and_left_as_it_was(open_build, tmp_path, capsys, planted):
    output = tmp_path / "out"
    (output / planted).parent.mkdir(parents=True, exist_ok=True)
    (output / planted).write_text("mine")
    before = tree_state(output)
    code, _, err = run(build_argv(open_build, output), capsys)
    assert code == 2 and "not empty and not a SpineBench dataset" in err and "give another --output" in err
    assert tree_state(output) == before


def test_user_files_kept_inside_an_earlier_dataset_are_named_not_deleted(open_build, tmp_path, capsys):
    output = imported(tmp_path, capsys)
    (output / "diagnosis" / "kept.txt").write_text("mine")
    before = tree_state(output)
    code, _, err = run(build_argv(open_build, output), capsys)
    assert code == 2 and "holds files SpineBench did not write (diagnosis/kept.txt)" in err
    assert tree_state(output) == before


def test_a_rebuild_replaces_an_earlier_dataset_whole(open_build, tmp_path, capsys):
    output = imported(tmp_path, capsys)
    assert run(build_argv(open_build, output), capsys)[0] == 0
    assert (output / "build_report.json").exists() and not (output / "import_report.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no staging left behind


@pytest.mark.parametrize(
    "failure", [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")]
)
def test_a_full_disk_during_a_rebuild_keeps_the_previous_dataset(open_build, tmp_path, capsys, monkeypatch, failure):
    output = tmp_path / "data"
    shutil.copytree(open_build[0] / "data", output)
    before = tree_state(output)
    from spinebench_hf.construction import card

    def full_disk(folder, *args, **kwargs):  # the parquet files are written; the card is not
        raise OSError(failure[0], failure[1], str(folder / "README.md"))

    monkeypatch.setattr(card, "write_card", full_disk)
    code, _, err = run(build_argv(open_build, output), capsys)
    assert code == 2 and err.strip().endswith(f"README.md: {failure[1]}") and str(tmp_path) in err
    assert tree_state(output) == before
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # the staging and work folders are gone


def test_ctrl_c_during_a_build_says_how_to_go_on(open_build, tmp_path, capsys, monkeypatch):
    output = tmp_path / "data"
    shutil.copytree(open_build[0] / "data", output)
    before = tree_state(output)
    from spinebench_hf.construction import pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "make_items", interrupted)
    code, _, err = run(build_argv(open_build, output), capsys)
    assert code == 130 and "interrupted; the images and embeddings made so far are cached" in err
    assert "run the same command again to continue" in err and tree_state(output) == before


@pytest.mark.parametrize("where", ["under-a-file", "is-a-file"])
def test_an_output_that_cannot_be_a_folder(tmp_path, capsys, where):
    (tmp_path / "file").write_text("x")
    output = tmp_path / "file" / "out" if where == "under-a-file" else tmp_path / "file"
    code, _, err = run(
        ["import-release", release(tmp_path / "release", [record("1.jpg")]), "--output", output], capsys
    )
    assert code == 2 and err.startswith("spinebench: error: ") and str(tmp_path / "file") in err
    assert (tmp_path / "file").read_text() == "x"


# --- 8. every image of a release decodes ----------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"just some text\n", b"\xff\xd8\xff\xe0 truncated jpeg"])
def test_an_image_that_does_not_decode_is_skipped_naming_it(tmp_path, capsys, content):
    source = release(tmp_path / "release", [record("1.jpg"), record("2.jpg")])
    (source / "evaluation" / "2.jpg").write_bytes(content)
    code, out, _ = run(["import-release", source, "--output", tmp_path / "out"], capsys)
    assert code == 0 and "corrupt-image 1" in out
    (skip,) = json.loads((tmp_path / "out" / "import_report.json").read_text())["skips"]
    assert skip["kind"] == "corrupt-image" and "2.jpg" in skip["reason"]
    assert len(datasets.load_dataset(str(tmp_path / "out"), "diagnosis", split="full")) == 1  # every row loads


def test_a_release_json_nested_too_deep(tmp_path, capsys):
    source = release(tmp_path / "release", [record("1.jpg")])
    (source / "evaluation" / "test.json").write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = run(["import-release", source, "--output", tmp_path / "out"], capsys)
    assert code == 2 and "evaluation/test.json: JSON nested deeper than 64 levels" in err


# --- 10, 12. numbers and options checked where they are read ----------------------------------------------------
@pytest.mark.parametrize(
    "argv, message",
    [
        (["build", "--csxa", "x", "--max-side", "0"], "argument --max-side: expected a whole number >= 1, got 0"),
        (["build", "--csxa", "x", "--num-proc", "-2"], "argument --num-proc: expected a whole number >= 1, got -2"),
        (
            ["build", "--csxa", "x", "--limit-per-source", "many"],
            "argument --limit-per-source: expected a whole number",
        ),
        (["build", "--csxa", "x", "--seed", "-1"], "argument --seed: expected a whole number >= 0, got -1"),
        (["rating-sheet", "x", "--per-task", "0"], "argument --per-task: expected a whole number >= 1, got 0"),
        (["rating-sheet", "x", "--per-task", "-5"], "argument --per-task: expected a whole number >= 1, got -5"),
        (["build", "--buu", "A", "--buu", "B"], "--buu given twice (A and B); give it once"),
        (["import-release", "x", "--output", "a", "--output", "b"], "--output given twice (a and b)"),
    ],
)
def test_bad_numbers_and_repeated_options_are_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and "Traceback" not in err


# --- 13. the same archive, the same fingerprint, with or without a cache ------------------------------------------
def test_a_damaged_member_is_never_served_from_a_cache_warmed_by_a_good_copy(tmp_path, capsys):
    csxa = write_csxa(tmp_path / "csxa", [CsxaCase(n, 1 + n % 5) for n in range(1, 9)])
    archive = tmp_path / "csxa.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:  # stored: the member's bytes lie as they are
        for path in sorted(csxa.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(csxa).as_posix())
    member = next(p.relative_to(csxa).as_posix() for p in sorted(csxa.rglob("*.png")))

    def build(cache: str, output: str) -> dict:
        argv = [
            "build",
            "--csxa",
            archive,
            "--output",
            tmp_path / output,
            "--cache-dir",
            tmp_path / cache,
            "--encoder",
            register_tiny_model(),
            "--encoder-weights",
            "random",
            "--max-side",
            "48",
        ]
        with pytest.warns(UserWarning):
            assert run(argv, capsys)[0] == 0
        return json.loads((tmp_path / output / "build_report.json").read_text())

    build("cache", "good")  # warms the cache with the good member
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zipped:
        info = zipped.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF  # same size, same declared CRC, other bytes
    archive.write_bytes(bytes(data))
    warm, cold = build("cache", "warm"), build("cold-cache", "cold")
    assert warm["fingerprint"] == cold["fingerprint"]
    assert [s["kind"] for s in warm["skips"]] == [s["kind"] for s in cold["skips"]] == ["corrupt-image"]
    assert "CRC" in warm["skips"][0]["reason"]


# --- push without network -------------------------------------------------------------------------------------
def test_push_without_network_is_one_line(open_build, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = run(["push", open_build[0] / "data", "--repo-id", "org/x"], capsys)
    assert code == 2 and err.startswith("spinebench: error: org/x: the upload failed") and "offline" in err


# --- sweeps: 2, 5, 6, 7, 11 and SWEEP.yaml's own errors -------------------------------------------------------
def sweep_file(folder: Path, data: Path, models: list[dict], tasks=("spinebench:diagnosis",)) -> Path:
    path = folder / "SWEEP.yaml"
    path.write_text(
        json.dumps(
            {
                "dataset": str(data),
                "tasks": list(tasks),
                "generation": {"max_new_tokens": 32, "temperature": 0},
                "models": models,
            }
        )
    )
    return path


def api(name: str, server: ChatServer, **settings) -> dict:
    return {
        "name": name,
        "backend": "openai",
        "model": "same-model-string",
        "base_url": server.url,
        "retries": 1,
        "timeout": 10,
        **settings,
    }


def sub_questions(data: Path, config="diagnosis") -> int:
    return len(datasets.load_dataset(str(data), config, split="sub"))


def test_two_servers_serving_one_model_string_are_two_models(built, tmp_path, capsys):
    right, wrong = ChatServer([completion("My final option: [A]")]), ChatServer([completion("No idea.")])
    try:
        path = sweep_file(tmp_path, built / "data", [api("first", right), api("second", wrong)])
        code, out, _ = run(["sweep", path, "--output", tmp_path / "out"], capsys)
        assert code == 0
        assert len(right.requests) == len(wrong.requests) == sub_questions(built / "data")  # both were asked
        details = pd.read_csv(tmp_path / "out" / "report" / "rates.csv").set_index("model")
        assert details.loc["second", "invalid"] == sub_questions(built / "data")  # its own replies, not the first's
    finally:
        right.close(), wrong.close()


def test_two_entries_that_would_share_replies_are_refused(built, tmp_path, capsys):
    server = ChatServer([completion("My final option: [A]")])
    try:
        path = sweep_file(tmp_path, built / "data", [api("a", server), api("b", server)])
        code, _, err = run(["sweep", path, "--output", tmp_path / "out"], capsys)
        assert code == 2 and "models[1]: the same model as models[0] (a)" in err and not server.requests
    finally:
        server.close()


@pytest.mark.parametrize(
    "body",
    [
        b"<html>busy</html>",
        b"{}",
        b'{"choices": []}',
        b'{"choices": [{"index": 0}]}',
        b'{"choices": [{"message": {"content": 5}}]}',
        b"[1, 2]",
    ],
)
def test_a_200_that_is_not_a_completion_is_a_failed_request_and_the_sweep_goes_on(built, tmp_path, capsys, body):
    garbage, fine = ChatServer([(200, body)]), ChatServer([completion("My final option: [B]")])
    try:
        path = sweep_file(tmp_path, built / "data", [api("garbage", garbage), api("fine", fine)])
        code, out, err = run(["sweep", path, "--output", tmp_path / "out"], capsys)
        n = sub_questions(built / "data")
        assert code == 1 and "incomplete (failed requests, retried by the next run): garbage" in err
        assert len(garbage.requests) == 2 * n  # asked, then asked again (retries: 1)
        assert len(fine.requests) == n and (tmp_path / "out" / "report" / "report.md").exists()  # the next model ran
        rates = pd.read_csv(tmp_path / "out" / "report" / "rates.csv").set_index("model")
        assert rates.loc["garbage", "failed"] == n and rates.loc["fine", "failed"] == 0
        assert f"garbage (incomplete: {n} failed)" in out  # the report shows it as failed
    finally:
        garbage.close(), fine.close()


def test_an_unset_key_variable_stops_before_any_request(built, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SPINEBENCH_TEST_UNSET_KEY", raising=False)
    server = ChatServer([completion("My final option: [A]")])
    try:
        entry = api("keyed", server, api_key_env="SPINEBENCH_TEST_UNSET_KEY")
        code, _, err = run(
            ["sweep", sweep_file(tmp_path, built / "data", [entry]), "--output", tmp_path / "out"], capsys
        )
        assert code == 2 and "api_key_env names SPINEBENCH_TEST_UNSET_KEY, which is not set" in err
        assert not server.requests
    finally:
        server.close()


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_ends_that_model_at_once(built, tmp_path, capsys, status):
    denied = ChatServer([(status, {"error": {"message": "invalid api key", "type": "auth"}})])
    fine = ChatServer([completion("My final option: [B]")])
    try:
        path = sweep_file(
            tmp_path,
            built / "data",
            [api("denied", denied, concurrency=1), api("fine", fine)],
            tasks=("spinebench:diagnosis", "spinebench:localization"),
        )
        code, out, err = run(["sweep", path, "--output", tmp_path / "out"], capsys)
        assert code == 1 and f"the server answered {status} for model 'same-model-string'" in err
        assert "invalid api key" in err and "no further request is sent for it" in err
        assert len(denied.requests) == 1  # not one per question
        rates = pd.read_csv(tmp_path / "out" / "report" / "rates.csv").set_index(["model", "task"])
        assert rates.loc[("denied", "localization"), "failed"] == sub_questions(built / "data", "localization")
        assert len(fine.requests) > 0
    finally:
        denied.close(), fine.close()


def test_a_report_of_a_sweep_where_every_request_failed(built, tmp_path, capsys):
    down = ChatServer([(500, {"error": {"message": "down"}})])
    try:
        path = sweep_file(tmp_path, built / "data", [api("down", down, retries=0)])
        code, out, _ = run(["sweep", path, "--output", tmp_path / "out"], capsys)
        assert code == 1 and "down (incomplete:" in out
        code, out, _ = run(["report", tmp_path / "out" / "details", "--output", tmp_path / "report"], capsys)
        assert code == 0 and "down (incomplete:" in out
    finally:
        down.close()


@pytest.mark.parametrize("name", ["..", ".", "a/b", "../../etc", "-rf", "with space", ""])
def test_a_model_name_is_a_folder_name(tmp_path, capsys, name):
    path = sweep_file(tmp_path, tmp_path, [{"name": name, "backend": "baseline", "baseline": "random"}])
    code, _, err = run(["sweep", path, "--output", tmp_path / "out"], capsys)
    assert code == 2 and "models[0].name: every model needs a name of letters, digits" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "dataset: d\nmodels:\n  - {name: a, backend: openai, model: m, base_url: u, timeout: soon}\n",
            r"line 3: models[0].timeout: Input should be a valid number, found 'soon'",
        ),
        (
            "dataset: d\nmodels:\n  - {name: a, backend: openai, model: m, base_url: u, api_key_env: 42}\n",
            r"line 3: models[0].api_key_env: Input should be a valid string, found 42",
        ),
        (
            "dataset: d\nmodels:\n  - {name: a, backend: openai, model: [m], base_url: u}\n",
            r"line 3: models[0].model: Input should be a valid string, found ['m']",
        ),
        (
            "dataset: d\nmodels:\n  - {name: a, backend: server, command: [], ready_url: r, base_url: u, model: m}\n",
            "models[0].command: List should have at least 1 item after validation, not 0, found []",
        ),
    ],
)
def test_a_setting_of_the_wrong_type_names_its_line_and_field(tmp_path, capsys, text, message):
    (tmp_path / "SWEEP.yaml").write_text(text)
    code, _, err = run(["sweep", tmp_path / "SWEEP.yaml"], capsys)
    assert code == 2 and message in err


def test_a_sweep_file_that_is_not_utf8(tmp_path, capsys):
    (tmp_path / "SWEEP.yaml").write_bytes("dataset: donn\xe9es\n".encode("latin-1"))
    code, _, err = run(["sweep", tmp_path / "SWEEP.yaml"], capsys)
    assert code == 2 and "SWEEP.yaml: not UTF-8 text" in err


# --- reports and rating sheets --------------------------------------------------------------------------------
def truncated_details(built_results: Path, tmp_path: Path) -> Path:
    source = next(built_results.rglob("details_spinebench:*.parquet"))
    target = tmp_path / "details" / "m" / "t" / source.name
    target.parent.mkdir(parents=True)
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    return target


@pytest.fixture(scope="module")
def swept(built, tmp_path_factory):
    """A sweep of a model whose replies start like spreadsheet formulas and carry markup in its name's place."""
    root = tmp_path_factory.mktemp("swept")
    server = ChatServer([completion('=HYPERLINK("http://evil","x") My final option: [A]')])
    try:
        path = sweep_file(root, built / "data", [api("m", server)], tasks=("spinebench:diagnosis",))
        assert main(["sweep", str(path), "--output", str(root / "out")]) == 0
    finally:
        server.close()
    return root / "out"


@pytest.mark.parametrize("command", ["report", "rating-sheet"])
def test_a_truncated_details_file_is_named(swept, tmp_path, capsys, command):
    broken = truncated_details(swept / "details", tmp_path)
    code, _, err = run([command, broken, "--output", tmp_path / "out"], capsys)
    assert code == 2 and f"{broken}: not a readable details parquet file (truncated or damaged?)" in err


def test_rating_sheet_cells_never_start_a_formula(swept, tmp_path, capsys):
    assert run(["rating-sheet", swept / "details", "--output", tmp_path / "sheet"], capsys)[0] == 0
    sheet = pd.read_csv(tmp_path / "sheet" / "rating_sheet.csv", dtype=str, keep_default_na=False)
    assert len(sheet) and all(reply.startswith("'=HYPERLINK(") for reply in sheet.reply)
    assert not any(str(cell).startswith(("=", "+", "-", "@")) for cell in sheet.to_numpy().ravel())


def test_report_markdown_escapes_model_names(swept, tmp_path, capsys):
    hostile = "<img src=x onerror=alert(1)>|x"
    shutil.copytree(swept / "details" / "m", tmp_path / "details" / hostile)
    assert run(["report", tmp_path / "details", "--output", tmp_path / "report"], capsys)[0] == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;\\|x" in text
    assert os.path.exists(tmp_path / "report" / "report.html")
