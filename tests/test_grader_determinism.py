"""Grading the reference twice gives the same scores and the same messages, test by test,
training smoke tests included (only the timings may differ)."""

from __future__ import annotations

from tests.grader_fixtures.grading import graded, run_cli
from tools.bench import verdicts


def test_grading_twice_gives_identical_results() -> None:
    first = graded("solution")
    again = run_cli("solution", "solution-again")
    assert again.returncode == 0, again.stderr
    assert again.results["score"] == first.results["score"]
    assert verdicts(again.results) == verdicts(first.results)
