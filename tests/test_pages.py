"""The HTML report and the rating form in a real browser: Debian's headless Chromium, driven by Selenium."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import RECORDS, prerequisite, program

from spinebench_hf.report.rating import CRITERIA, read_sheets, summarize, write_sheet

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
HOSTILE = '<script>window.hacked = 1</script><img src=x onerror="window.hacked = 2">My final option: [A]'
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    for path in (CHROMIUM, CHROMEDRIVER):
        program(path, "Debian's browser and its driver: apt-get install chromium chromium-driver")
    webdriver = prerequisite("selenium.webdriver", "the test extra: pip install -e '.[test]'")
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('profile')}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def runs(built, tmp_path_factory):
    """Two weight-free baselines through lighteval on the built fixture: real details, images included."""
    out = tmp_path_factory.mktemp("runs")
    from spinebench_hf.evaluation.lighteval_models import model_file

    for label, file in (("random", "random_baseline"), ("healthy", "healthy_baseline")):
        command = [
            sys.executable,
            "-m",
            "spinebench_hf.cli",
            "eval",
            "custom",
            label,
            str(model_file(file)),
            "spinebench:diagnosis|0,spinebench:localization|0",
            "--custom-tasks",
            "spinebench_hf.evaluation.lighteval_task",
            "--output-dir",
            str(out / label),
            "--save-details",
        ]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=600,
            env=dict(os.environ, SPINEBENCH_DATA=str(built / "data"), HF_HUB_OFFLINE="1"),
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return out


def console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_report_page(runs, browser, tmp_path):
    from spinebench_hf.cli import main

    assert main(["report", str(runs), "--output", str(tmp_path / "report")]) == 0
    browser.get((tmp_path / "report" / "report.html").as_uri())
    images = browser.find_elements("css selector", ".gallery .case img")
    assert images and all(
        browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i) > 0 for i in images
    )
    assert "(paper)" in browser.page_source and "Gemini-2.5-pro-exp-03-25" in browser.page_source
    shown = {}
    for button in browser.find_elements("css selector", ".filters button"):
        click(browser, button)
        visible = [c for c in browser.find_elements("css selector", ".gallery .case") if c.is_displayed()]
        shown[button.get_attribute("data-filter")] = {c.get_attribute("data-outcome") for c in visible}
        if button.get_attribute("data-filter") != "all":
            assert shown[button.get_attribute("data-filter")] <= {button.get_attribute("data-filter")}
    assert len(shown["all"]) > 1  # the filters change what is shown
    click(browser, images[0])
    assert "zoomed" in images[0].get_attribute("class")  # click to enlarge
    assert_readable_numbers_and_options(browser, ["healthy", "random"])
    assert console_errors(browser) == []
    browser.save_screenshot(str(tmp_path / "report.png"))


TOO_PRECISE = re.compile(r"\d\.\d{3,}|\de[-+]?\d", re.IGNORECASE)  # more than 2 decimals, or scientific notation


def assert_readable_numbers_and_options(browser, models: list[str]) -> None:
    """What the reviewer sees: no cell with more than two decimals or in scientific notation, a matrix with the
    models as its columns, a summary and contents that lead to every section, and every option letter once."""
    cells = [c.text for c in browser.find_elements("css selector", "td, th") if c.is_displayed()]
    assert cells and not [text for text in cells if TOO_PRECISE.search(text)]
    matrix = browser.find_element("css selector", "table.matrix")
    assert [th.text for th in matrix.find_elements("css selector", "thead th")][1:] == models
    assert browser.find_element("id", "summary_the_models_ranked_by_overall") and "Chance (guessing)" in cells
    for link in browser.find_elements("css selector", ".toc a"):
        assert browser.find_elements("id", link.get_attribute("href").split("#", 1)[1])
    headings = browser.find_elements("css selector", "th")
    assert headings and not [th for th in headings if not th.get_attribute("textContent").strip()]  # none empty
    overflowing = browser.execute_script(
        "const edge = document.querySelector('h1').getBoundingClientRect().right + 1;"
        "return [...document.querySelectorAll('.wide, img:not(.zoomed), table')]"
        ".filter(e => !(e.tagName === 'TABLE' && e.closest('.wide')))"
        ".filter(e => e.getBoundingClientRect().right > edge).map(e => e.tagName + '.' + e.className);"
    )
    assert overflowing == []  # wide tables scroll in their own box, plots are scaled to the column
    for item in browser.find_elements("css selector", ".options li"):
        letter = item.get_attribute("data-letter")
        text = item.get_attribute("textContent")  # hidden cases too (the filters hide some)
        assert text.startswith(letter + " ") and not re.search(rf"\b{letter}[:.)] ", text), text


def test_a_hostile_reply_is_text_on_both_pages(browser, tmp_path):
    from spinebench_hf.report.tables import write_report

    scored = RECORDS.assign(reply=[HOSTILE] * len(RECORDS), question="<b>bold?</b>")
    write_report(scored, tmp_path / "report")
    browser.get((tmp_path / "report" / "report.html").as_uri())
    assert browser.execute_script("return window.hacked") is None
    assert HOSTILE in browser.execute_script("return document.querySelector('.case pre').textContent")
    sheet = details_frame().assign(reply=HOSTILE)
    files = write_sheet(sheet, tmp_path / "rating")
    browser.get(files["html"].as_uri())
    assert browser.execute_script("return window.hacked") is None
    assert HOSTILE in browser.find_element("css selector", ".case pre").text
    assert console_errors(browser) == []


def details_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "sample": f"S{i:03d}",
                "model": f"model-{i % 2}",
                "task": "diagnosis",
                "id": f"q{i}",
                "question": "Which spinal disease?",
                "options": "[A: Healthy, B: Osteophytes]",
                "correct": "Healthy",
                "reply": f"reasoning {i}. My final option: [A]",
                "image": None,
            }
            for i in range(4)
        ]
    )


def click(browser, element) -> None:
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)  # clear of the sticky bar
    element.click()


def fill(browser, rater: str, scores: dict[str, int]) -> None:
    box = browser.find_element("id", "rater")
    box.clear()
    box.send_keys(rater)
    for sample, score in scores.items():
        for criterion in CRITERIA:
            click(
                browser, browser.find_element("css selector", f"input[name='{sample}-{criterion}'][value='{score}']")
            )
        comment = browser.find_element("css selector", f"textarea[data-sample='{sample}']")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", comment)
        comment.send_keys(f"{rater} on {sample}")


def download(browser, rater: str) -> Path:
    target = browser.downloads / f"rating_{rater}.csv"
    click(browser, browser.find_element("id", "download"))
    deadline = time.monotonic() + 20
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.exists(), list(browser.downloads.iterdir())
    return target


def test_two_raters_fill_the_form_reload_and_summarize(runs, browser, tmp_path):
    from spinebench_hf.cli import main

    assert main(["rating-sheet", str(runs), "--output", str(tmp_path / "rating"), "--per-task", "2"]) == 0
    page = tmp_path / "rating" / "rating_sheet.html"
    assert "random" not in page.read_text() and "healthy" not in page.read_text()  # blind: no model names
    browser.get(page.as_uri())
    for image in browser.find_elements("css selector", ".case img"):  # readable size: longest side >= 512 px
        assert max(image.size["width"], image.size["height"]) >= 512
    samples = [e.get_attribute("data-sample") for e in browser.find_elements("css selector", "textarea")]
    first = {sample: 1 + i % 5 for i, sample in enumerate(samples)}
    fill(browser, "r1", first)
    browser.refresh()  # nothing is lost
    assert browser.find_element("id", "rater").get_attribute("value") == "r1"
    assert browser.find_element("id", "done").text == str(len(samples))
    assert all(
        browser.find_element("css selector", f"input[name='{s}-{c}'][value='{v}']").is_selected()
        for s, v in first.items()
        for c in CRITERIA
    )
    options = browser.find_elements("css selector", ".case .options li")  # a list, marked as in the gallery
    assert options and all(o.get_attribute("textContent").startswith(o.get_attribute("data-letter") + " ")
                           for o in options)  # fmt: skip
    assert browser.find_elements("css selector", ".case .options .correct-mark")
    assert browser.find_elements("css selector", ".case .options .chosen-mark")
    browser.save_screenshot(str(tmp_path / "rating.png"))
    sheet_r1 = download(browser, "r1")
    second = {sample: 5 - i % 5 for i, sample in enumerate(samples)}
    fill(browser, "r2", second)  # another rater: an empty form of their own
    sheet_r2 = download(browser, "r2")
    assert console_errors(browser) == []
    table = read_sheets([sheet_r1, sheet_r2], tmp_path / "rating" / "key.csv")
    means, agreement = summarize(table)
    key = pd.read_csv(tmp_path / "rating" / "key.csv").set_index("sample")
    entered = pd.DataFrame(
        [
            {"model": key.loc[s, "model"], "task": key.loc[s, "task"], "score": v}
            for scores in (first, second)
            for s, v in scores.items()
        ]
    )
    expected = entered.groupby(["model", "task"]).score.mean()
    for row in means.itertuples():
        assert row.mean == pytest.approx(expected[(row.model, row.task)])
    assert set(agreement.criterion) == set(CRITERIA)
    assert json.dumps(pd.read_csv(sheet_r1).comment.tolist()).count("r1 on") == len(samples)


def test_the_downloaded_sheet_never_starts_a_formula(browser, tmp_path):
    """OWASP's CSV-injection advice in the page's own download: a reply or comment starting like a formula is text."""
    formulas = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB"]
    sheet = details_frame().assign(reply=formulas[:4], question=formulas[4])
    browser.get(write_sheet(sheet, tmp_path / "rating")["html"].as_uri())
    fill(browser, "formula", {})
    comment = browser.find_element("css selector", "textarea[data-sample='S000']")
    comment.send_keys("=cmd|' /C calc'!A0")
    downloaded = pd.read_csv(download(browser, "formula"), dtype=str, keep_default_na=False)
    assert list(downloaded.reply) == ["'" + text for text in formulas[:4]]
    assert downloaded.comment[0] == "'=cmd|' /C calc'!A0" and downloaded.question[0] == "'\tTAB"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for cell in downloaded.to_numpy().ravel())
    assert console_errors(browser) == []


@pytest.fixture(scope="module")
def swept(built, tmp_path_factory):
    """A sweep of an OpenAI-compatible model whose reply is hostile markup: its details copy no image."""
    from conftest import ChatServer, completion

    from spinebench_hf.cli import main

    out = tmp_path_factory.mktemp("swept")
    server = ChatServer([completion(HOSTILE)])
    try:
        (out / "SWEEP.yaml").write_text(
            json.dumps(
                {
                    "dataset": str(built / "data"),
                    "tasks": ["spinebench:diagnosis", "spinebench:localization"],
                    "models": [{"name": "api", "backend": "openai", "model": "m", "base_url": server.url}],
                }
            )
        )
        assert main(["sweep", str(out / "SWEEP.yaml"), "--output", str(out / "run")]) == 0
    finally:
        server.close()
    return out / "run"


@pytest.mark.parametrize("page", ["report", "rating"])
def test_a_sweeps_pages_show_each_cases_image_read_from_its_dataset(swept, browser, tmp_path, page):
    from spinebench_hf.cli import main

    if page == "report":
        target = swept / "report" / "report.html"  # written by the sweep itself
    else:
        assert main(["rating-sheet", str(swept / "details"), "--output", str(tmp_path / "rating")]) == 0
        target = tmp_path / "rating" / "rating_sheet.html"
    browser.get(target.as_uri())
    cases = browser.find_elements("css selector", ".case")
    images = browser.find_elements("css selector", ".case img")
    assert cases and len(images) == len(cases)
    assert all(
        browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i) > 0 for i in images
    )
    assert browser.execute_script("return window.hacked") is None and HOSTILE in browser.page_source.replace(
        "&lt;", "<"
    ).replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    assert console_errors(browser) == []


def column_values(browser, key: str) -> list:
    cells = browser.find_elements("css selector", f"#leaderboard tbody td[data-key='{key}']")
    return [None if c.get_attribute("data-value") == "" else float(c.get_attribute("data-value")) for c in cells]


def test_the_leaderboard_sorts_links_and_escapes(runs, swept, browser, tmp_path):
    """lighteval and sweep runs on one board: every column sorts both ways (missing values last), each model links
    to its own report, a hostile model name is text, and no console error."""
    from spinebench_hf.report.details import scored_questions
    from spinebench_hf.report.leaderboard import write_leaderboard

    hostile = '<img src=x onerror="window.hacked = 3">evil'
    scored = scored_questions([runs, swept / "details"])
    scored = scored.assign(model=scored.model.replace({"api": hostile}))
    page = write_leaderboard(scored, tmp_path / "board")
    browser.get(page.as_uri())
    assert browser.execute_script("return window.hacked") is None
    names = [c.text for c in browser.find_elements("css selector", "#leaderboard tbody td:first-child")]
    assert any(name.startswith(hostile) for name in names) and any("paper" in name for name in names)
    overall = column_values(browser, "overall")  # ranked by Overall as written
    assert overall == sorted(overall, key=lambda v: (v is None, -(v or 0)))
    for key in ("diagnosis", "localization"):
        header = browser.find_element("css selector", f"#leaderboard th[data-key='{key}']")
        for descending in (True, False):
            click(browser, header)
            values = column_values(browser, key)
            known = [v for v in values if v is not None]
            assert known == sorted(known, reverse=descending) and values[: len(known)] == known
            assert header.get_attribute("aria-sort") == ("descending" if descending else "ascending")
    click(browser, browser.find_element("css selector", "#leaderboard th[data-key='model']"))
    names = [c.text.lower() for c in browser.find_elements("css selector", "#leaderboard tbody td:first-child")]
    assert names == sorted(names)
    link = browser.find_element("css selector", "#leaderboard a[href$='healthy/report.html']")
    click(browser, link)
    assert browser.current_url.endswith("models/healthy/report.html") and "SpineBench results" in browser.title
    assert console_errors(browser) == []


def test_what_publish_records_of_lighteval_and_sweep_runs(runs, swept, built):
    """runs.run_infos on real lighteval and sweep outputs: the harness, its settings and the dataset they ran on."""
    from spinebench_hf.report.runs import run_infos

    infos = run_infos([runs, swept / "details"])
    fingerprint = json.loads((built / "data" / "build_report.json").read_text())["fingerprint"]
    assert set(infos) == {"random", "healthy", "api"}
    assert {(i.harness, i.dataset_kind, i.dataset_fingerprint) for i in infos.values()} == {
        ("lighteval", "build", fingerprint), ("spinebench sweep", "build", fingerprint)
    }  # fmt: skip
    assert infos["api"].backend == "openai" and infos["api"].generation
