"""Correct work written differently gets full marks: the variants of
tests/grader_fixtures/correct.py and the solution notebook (a notebook instead of a folder),
graded on the code's tests (see test_grader_mutants.TESTS). No false failures."""

from __future__ import annotations

import pytest

from tests.grader_fixtures.correct import CORRECT
from tests.grader_fixtures.grading import ROOT, graded, workdir
from tests.test_grader_mutants import TESTS

BY_NAME = {v.name: v for v in CORRECT}


def test_there_are_enough_correct_variants() -> None:
    assert len(CORRECT) + 1 >= 8  # + the notebook


@pytest.mark.parametrize("name", [*BY_NAME, "notebook"])
def test_correct_variant_gets_full_marks(name: str) -> None:
    notebook = ROOT / "notebooks" / "solution.ipynb"
    submission = notebook if name == "notebook" else BY_NAME[name].build(workdir("correct"))
    g = graded(str(submission), "--tests", TESTS)
    assert g.returncode == 0, g.stderr
    lost = {k: t["output"] for k, t in g.by_id().items() if t["score"] < t["max_score"]}
    assert not lost, f"{name} lost points: {lost}"
    assert g.results["score"] == sum(t["max_score"] for t in g.results["tests"]) > 0
