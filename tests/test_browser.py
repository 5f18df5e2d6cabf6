"""The reports as a TA or a student sees them: opened in a real headless Chromium.

One small class is graded with `python -m grader.batch`: the reference with its quick deliverable
figures, a failing notebook (a known mistake and cells the grader leaves out) and the skeleton.
Then its report.html files and index.html are loaded and their key elements must be displayed.
Screenshots go to build/screenshots/. Chromium and its driver (Debian: chromium, chromium-driver)
are installed with apt-get when missing and running as root; elsewhere the tests are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from grader.batch.index import Row, render_index
from grader.rubric import load_rubric
from tests.grader_fixtures.grading import ROOT

SHOTS = ROOT / "build" / "screenshots"
TESTS = "schedules,q_sample,figures"
BUG = ("torch.cumprod(alphas, dim=0)", "torch.cumsum(alphas, dim=0)")  # mutant cumsum_not_cumprod
EXTRA_CELL = "!pip install torch\nprint('training for 20 epochs')"


def _binaries() -> tuple[str | None, str | None]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    return browser, shutil.which("chromedriver")


def _install() -> None:
    """apt-get the Debian packages (root only; CI's fresh machine reaches the Debian mirrors)."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium",
                                        "chromium-driver"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
        if proc.returncode != 0:
            pytest.fail(f"`{' '.join(cmd)}` failed (exit {proc.returncode}), so Chromium cannot be installed "
                        f"for the browser tests:\n{proc.stderr[-2000:]}")


@pytest.fixture(scope="session")
def driver() -> Iterator[WebDriver]:
    browser, chromedriver = _binaries()
    if browser is None or chromedriver is None:
        if os.geteuid() != 0:
            pytest.skip("chromium and chromedriver are missing (apt-get install chromium chromium-driver, as root)")
        if shutil.which("apt-get") is None:
            pytest.fail("chromium and chromedriver are missing and there is no apt-get to install them")
        _install()
        browser, chromedriver = _binaries()
        assert browser and chromedriver, "apt-get installed chromium and chromium-driver, but they are not on PATH"
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600"):
        options.add_argument(flag)
    drv = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield drv
    drv.quit()


def _failing_notebook(path: Path) -> None:
    """The solution notebook with one known mistake and a cell that is not a definition."""
    nb = nbformat.read(ROOT / "notebooks" / "solution.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and BUG[0] in c.source]
    assert len(cells) == 1, f"{BUG[0]!r} should be in exactly one cell of the solution notebook"
    cells[0].source = cells[0].source.replace(*BUG)
    nb.cells.insert(1, nbformat.v4.new_code_cell(EXTRA_CELL))
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class of three graded by the batch: the reference with figures, a failing notebook, the skeleton."""
    tmp = tmp_path_factory.mktemp("browser")
    subs = tmp / "class"
    shutil.copytree(ROOT / "solution", subs / "reference", ignore=shutil.ignore_patterns("__pycache__"))
    # The reference's PNGs kept in docs/ (no loss logs or GIFs: those figures then fail, which the
    # report must show just as well); always these, so that the pages do not depend on test order.
    shutil.copytree(ROOT / "docs" / "figures", subs / "reference" / "figures",
                    ignore=shutil.ignore_patterns("*.json"))
    shutil.copytree(ROOT / "skeleton", subs / "skeleton", ignore=shutil.ignore_patterns("__pycache__"))
    _failing_notebook(subs / "failing.ipynb")
    out = tmp / "out"
    cmd = [sys.executable, "-m", "grader.batch", str(subs), "--out", str(out), "--jobs", "2", "--tests", TESTS,
           "--device", "cpu"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


def _shown(el: WebElement) -> WebElement:
    assert el.is_displayed() and el.size["width"] > 0 and el.size["height"] > 0, el.get_attribute("outerHTML")[:300]
    return el


def test_reference_report_shows_scores_times_and_figures(driver: WebDriver, graded_class: Path) -> None:
    driver.get((graded_class / "reference" / "report.html").as_uri())
    assert "Score:" in _shown(driver.find_element(By.ID, "total")).text
    parts = [_shown(row) for row in driver.find_elements(By.CSS_SELECTOR, "#scores tr.part")]
    assert len(parts) == 3 and "3. Variance schedules" in parts[0].text
    times = [_shown(td).text for td in driver.find_elements(By.CSS_SELECTOR, "#scores td.part-time")]
    assert len(times) == 3 and all(t.endswith(" s") and float(t[:-2]) >= 0 for t in times)
    figure = driver.find_element(By.CSS_SELECTOR, "figure.figure img")
    driver.execute_script("arguments[0].scrollIntoView()", figure)
    _shown(figure)
    assert driver.execute_script("return arguments[0].naturalWidth", figure) > 0  # the embedded PNG decoded
    verdict = _shown(figure.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, ".verdict"))
    assert verdict.text.startswith(("passed", "failed"))
    figure.find_element(By.XPATH, "..").screenshot(str(SHOTS / "report-reference-figure.png"))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(SHOTS / "report-reference.png"))


def test_failing_report_shows_expected_got_hint_and_dropped_cells(driver: WebDriver, graded_class: Path) -> None:
    driver.get((graded_class / "failing" / "report.html").as_uri())
    failure = _shown(driver.find_element(By.ID, "failed-test_ddpm_schedule"))
    got = _shown(failure.find_element(By.CSS_SELECTOR, "pre.got")).text
    assert "expected" in got and "got" in got
    assert "cumulative sum instead of cumulative product" in _shown(failure.find_element(By.CLASS_NAME, "hint")).text
    dropped = _shown(driver.find_element(By.ID, "dropped-cells"))
    items = [_shown(li).text for li in dropped.find_elements(By.TAG_NAME, "li")]
    assert any("!pip install torch" in i for i in items) and any("print('training" in i for i in items)
    driver.execute_script("arguments[0].scrollIntoView()", failure)
    driver.save_screenshot(str(SHOTS / "report-failing.png"))


def test_class_index_sorts_and_links(driver: WebDriver, graded_class: Path) -> None:
    driver.get((graded_class / "index.html").as_uri())
    assert "3 submissions" in _shown(driver.find_element(By.ID, "summary")).text

    def order() -> list[str]:
        return [_shown(r).find_element(By.TAG_NAME, "td").text for r in driver.find_elements(By.CSS_SELECTOR,
                                                                                           "#grades tbody tr")]

    assert order() == ["failing", "reference", "skeleton"]  # by id
    score = next(th for th in driver.find_elements(By.CSS_SELECTOR, "#grades th") if th.text.startswith("Score"))
    score.click()
    assert order() == ["skeleton", "failing", "reference"]  # ascending: 0, some, full
    score.click()
    assert order() == ["reference", "failing", "skeleton"]
    # Every column fits a 1280-pixel window: no sideways scrolling to see a part's score or the reason.
    assert driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    driver.save_screenshot(str(SHOTS / "index.png"))
    driver.find_element(By.LINK_TEXT, "reference").click()
    assert driver.current_url.endswith("/reference/report.html")
    _shown(driver.find_element(By.ID, "scores"))


def test_a_whole_class_index_fits_a_laptop_window(driver: WebDriver, tmp_path: Path) -> None:
    """Every part's column and a long error reason: the index still fits 1280 pixels, nothing to scroll."""
    rubric = load_rubric()
    parts = {k: 1.0 for k in rubric.parts}
    rows = [Row(f"student-{i:03d}", "graded", 50.0, rubric.max_score, "", 41.0, parts=parts) for i in range(30)]
    rows.append(Row("student-with-a-rather-long-upload-name", "error", 0.0, rubric.max_score,
                    "the grader stopped: " + "a long reason that a TA must read in full " * 6, 900.0))
    page = tmp_path / "index.html"
    page.write_text(render_index(rows, rubric, "0123456789ab", "all"))
    driver.get(page.as_uri())
    assert len(driver.find_elements(By.CSS_SELECTOR, "#grades thead th")) == len(rubric.parts) + 6
    assert driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    reason = driver.find_element(By.CSS_SELECTOR, "#grades tr.error td.reason")
    assert reason.size["width"] >= 150  # readable, not squeezed to a word a line
    driver.save_screenshot(str(SHOTS / "index-whole-class.png"))
