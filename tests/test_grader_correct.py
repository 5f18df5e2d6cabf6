"""Correct work written differently gets full marks: the variants of
tests/grader_fixtures/correct.py and the solution notebook (a notebook instead of a folder),
graded on the code's tests (see test_grader_mutants.TESTS). No false failures."""

from __future__ import annotations

import pytest

from grader.rubric import load_rubric
from tests.grader_fixtures.correct import CORRECT
from tests.grader_fixtures.grading import ROOT, graded, workdir
from tests.test_grader_mutants import TESTS

BY_NAME = {v.name: v for v in CORRECT}


def test_there_are_enough_correct_variants() -> None:
    assert len(CORRECT) + 1 >= 8  # + the notebook


@pytest.mark.parametrize("name", [*BY_NAME, "notebook"])
def test_correct_variant_gets_full_marks(name: str) -> None:
    if name == "notebook":  # its whole grade, which test_grader_notebook shares: the code's tests of it here
        g = graded(str(ROOT / "notebooks" / "solution.ipynb"))
    else:
        g = graded(str(BY_NAME[name].build(workdir("correct"))), "--tests", TESTS)
    assert g.returncode == 0, g.stderr
    code = {e.id for e in load_rubric().entries.values() if e.selected(TESTS)}
    tests = [t for t in g.results["tests"] if t["extra_data"]["id"] in code]
    assert {t["extra_data"]["id"] for t in tests} == code
    lost = {t["extra_data"]["id"]: t["output"] for t in tests if t["score"] < t["max_score"]}
    assert not lost, f"{name} lost points: {lost}"
