"""The reference solution, graded through the command line, gets full marks, and the outputs
(results.json, report.md, report.html, the terminal table) are complete and well formed."""

from __future__ import annotations

import re

from grader.rubric import load_rubric
from tests.grader_fixtures.grading import CODE_MAX, FIGURE_TESTS, graded


def test_solution_gets_full_marks() -> None:
    """Full marks on the code; solution/ holds no figures/ (test_grader_figures grades the reference's)."""
    g = graded("solution")
    assert g.returncode == 0, g.stderr
    rubric = load_rubric()
    assert g.results["score"] == CODE_MAX
    assert set(g.by_id()) == set(rubric.entries)  # every test of the catalog ran
    code = [t for t in g.results["tests"] if t["extra_data"]["id"] not in FIGURE_TESTS]
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in code)
    assert g.figures_missing()


def test_results_carry_rubric_metadata() -> None:
    rubric = load_rubric()
    for test in graded("solution").results["tests"]:
        entry = rubric.entries[test["extra_data"]["id"]]
        assert (test["name"], test["number"], test["visibility"]) == (entry.title, entry.number, entry.visibility)
        assert test["tags"] == [rubric.parts[entry.part]]


def test_terminal_table_and_reports() -> None:
    g = graded("solution")
    assert re.search(rf"Total\s+{CODE_MAX:g} / {load_rubric().max_score:g}", g.stdout)
    assert "8. Flow matching" in g.stdout and "report.html" in g.stdout
    md = g.report_md
    assert f"**Score: {CODE_MAX:g} / {load_rubric().max_score:g}**" in md and "## Scores by part" in md
    assert "## Deliverable figures" in md and "no figures/ folder in the submission" in md
    assert "- user: " in md and "- network: " in md and "- memory: " in md  # how the code ran


def test_html_report_is_self_contained() -> None:
    html = graded("solution").report_html
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from elsewhere
    assert f"Score: {CODE_MAX:g} / {load_rubric().max_score:g}" in html and "Deliverable figures" in html
