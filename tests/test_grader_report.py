"""The reports, rendered from a hand-made result: failures with hints, escaping, figures."""

from __future__ import annotations

import json
import zlib
from html import escape
from pathlib import Path

from grader.report import render_table, write_reports
from grader.results import KEPT_BACK, FigureVerdict, GradingResult, TestResult, fence, gradescope
from grader.submission.deliverables import NONE_FOUND, none_found
from tests.grader_fixtures.grading import validate


def _png(path: Path) -> Path:
    """A 1x1 PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\0"))
                     + chunk(b"IEND", b""))
    return path


def _result(tmp_path: Path) -> GradingResult:
    tests = [
        TestResult("test_a", "1.1", "Passes", "p1", 2, 2, True, "visible", duration_s=1.25),
        TestResult("test_b", "1.2", "Fails <badly>", "p1", 3, 0, False, "hidden",
                   message="f(x) <script>alert(1)</script>\n  expected: 1\n  got:      2", hint="use `alpha_bar`",
                   duration_s=2.5),
    ]
    figures = [
        FigureVerdict("noising", "1_2_noising.png", "sigma grows", "noise_grows_along_columns", True,
                      "rank correlation 1.00 (at least 0.9)", "1.2", _png(tmp_path / "fig.png").read_bytes()),
        FigureVerdict("ddpm_class_epoch20", "2_5_x.png", "<digits>", "columns_are_digits", False,
                      "40% of the tiles | read right", "2.5", None, {"right_digit": 0.4}),
    ]
    return GradingResult("sub", "notebook", "all", "cpu", {"p1": "1. Part one"}, tests, notes=["graded 4 files"],
                         dropped=["`train(model)` (not a definition)"], figures=figures,
                         figures_source="figures/ in the submission")


def test_reports_show_failures_hints_and_figures(tmp_path: Path) -> None:
    result = _result(tmp_path)
    write_reports(result, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert "**Score: 2 / 5**" in md and "### 1.2 Fails <badly> (0 / 3) _(hidden)_" in md
    assert "**Hint:** use `alpha_bar`" in md and "## Deliverable figures" in md
    assert "| noising | `1_2_noising.png` | noise_grows_along_columns | passed |" in md
    assert "| **failed** | 40% of the tiles \\| read right |" in md  # a table cell cannot hold a bare |
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html  # the student's text is escaped
    assert html.count('src="data:image/png;base64,') == 1  # figures are embedded, not linked
    assert "&lt;digits&gt;" in html and "1 of 2 figures passed" in html
    # the stable hooks of tests/test_browser.py: parts with their time, failures, figures, dropped cells
    assert '<table id="scores">' in html and html.count('<tr class="part ') == 1
    assert '<td class="num part-time">3.8 s</td>' in html and "| 1. Part one | 2 | 5 | 1 / 2 | 3.8 s |" in md
    assert html.count('class="test failure"') == 1 and '<p class="hint">' in html
    assert html.count('<figure class="fig figure') == 2 and html.count('class="verdict"') == 2
    assert '<details id="dropped-cells" open>' in html and "<code>`train(model)` (not a definition)</code>" in html
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    validate(results)
    assert [f["passed"] for f in results["extra_data"]["figures"]] == [True, False]
    assert results["score"] == 2 and results["tests"][1]["output"].endswith("**Hint:** use `alpha_bar`")
    # Markdown: the message verbatim in a fence (its columns kept), the hint as prose
    assert results["tests"][1]["output_format"] == "md" and results["output_format"] == "md"
    assert results["tests"][1]["output"].startswith("```text\nf(x) <script>alert(1)</script>\n  expected: 1\n")
    assert results["tests"][1]["visibility"] == "hidden"  # the staff's run: Gradescope's own meaning
    assert results["extra_data"]["part_times_s"] == {"1. Part one": 3.75}


def test_terminal_table_is_compact(tmp_path: Path) -> None:
    table = render_table(_result(tmp_path), tmp_path)
    assert "1. Part one" in table and "2 / 5" in table and "Failed (1):" in table
    assert len(table.splitlines()) <= 8


def test_the_student_audience_never_reads_a_hidden_test_s_details(tmp_path: Path) -> None:
    """Gradescope's run (--audience student): a hidden test shows its title and points, its details kept
    back, and is marked visible so that Gradescope shows the student's total; with --hidden-as hidden it
    is Gradescope's hidden (the staff read it whole)."""
    result = _result(tmp_path)
    result.audience, result.hidden_as = "student", "visible"
    write_reports(result, tmp_path / "student")
    for report in ("report.md", "report.html"):
        text = (tmp_path / "student" / report).read_text()
        assert "Fails &lt;badly&gt;" in text or "Fails <badly>" in text
        assert "alert(1)" not in text and "alpha_bar" not in text
        assert (escape(KEPT_BACK) if report.endswith(".html") else KEPT_BACK) in text
    results = json.loads((tmp_path / "student" / "results.json").read_text())
    validate(results)
    hidden = results["tests"][1]
    assert hidden["visibility"] == "visible" and (hidden["score"], hidden["max_score"]) == (0, 3)
    assert hidden["output"] == fence(KEPT_BACK) and "alpha_bar" not in json.dumps(results)
    assert "alert(1)" not in render_table(result)

    result.hidden_as = "hidden"
    hidden = gradescope(result)["tests"][1]
    assert hidden["visibility"] == "hidden" and "alpha_bar" in hidden["output"]  # shown to the staff only


def test_a_missing_figures_folder_is_worded_for_its_reader() -> None:
    assert none_found("ta").startswith(NONE_FOUND) and "make deliverables (or pass --figures DIR)" in none_found("ta")
    student = none_found("student")
    assert student.startswith(NONE_FOUND) and "upload" in student and "--figures" not in student


def test_tests_of_a_part_that_failed_the_same_way_share_one_box(tmp_path: Path) -> None:
    result = _result(tmp_path)
    same = "no figures/ folder in the submission: run make deliverables (or pass --figures DIR)"
    result.tests += [TestResult(f"test_fig_{i}", f"2.{i}", f"Figure {i}", "p2", 2, 0, False, "visible", message=same)
                     for i in (1, 2, 3)]
    result.parts["p2"] = "2. Figures"
    assert [len(g) for g in result.failure_groups()] == [1, 3]
    write_reports(result, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert md.count(same) == 1 and "### 3 tests of part 2, the same failure (0 / 6)" in md
    assert "- 2.1 Figure 1 (0 / 2)" in md and "- 2.3 Figure 3 (0 / 2)" in md
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count("no figures/ folder") == 1 and html.count('class="test failure"') == 2
    assert 'id="failed-test_fig_1"' in html and '<li id="failed-test_fig_3">' in html
