"""The generated skeleton: grading completes, every test scores 0, and each says what is missing."""

from __future__ import annotations

from tests.grader_fixtures.grading import FIGURE_TESTS, graded


def test_skeleton_scores_zero_everywhere() -> None:
    g = graded("skeleton")
    assert g.returncode == 0, g.stderr
    assert g.results["score"] == 0
    assert g.results["tests"] and all(t["score"] == 0 and t["status"] == "failed" for t in g.results["tests"])


def test_skeleton_failures_name_the_todo() -> None:
    g = graded("skeleton")
    assert g.figures_missing()
    for test in g.results["tests"]:
        if test["extra_data"]["id"] in FIGURE_TESTS:
            continue
        assert "NotImplementedError" in test["output"] and "TODO(" in test["output"], test["output"]
        assert not test["extra_data"]["grader_error"]
