"""Hand-broken submissions: each loses exactly the tests that depend on the broken code, with a
clear message, and keeps every other test's points. One more carries known mistakes, and
each failing test must name the mistake it made."""

from __future__ import annotations

import re

import pytest

from grader.rubric import load_rubric
from tests.grader_fixtures.grading import CODE_MAX, graded, workdir
from tests.grader_fixtures.variants import HINTS, MISTAKES, VARIANTS, Variant


def _grade(variant: Variant, tests: str = "all"):
    folder = variant.build(workdir("variants"))
    args = ("--timeout", str(variant.timeout)) if variant.timeout else ()
    return graded(str(folder), "--tests", tests, *args)


def _mistakes():
    """The known mistakes, graded on the parts of the tests that must name them."""
    entries = load_rubric().entries
    return _grade(MISTAKES, ",".join(sorted({entries[t].part for t in HINTS})))


@pytest.mark.parametrize("name", list(VARIANTS))
def test_broken_submission_loses_exactly_what_it_should(name: str) -> None:
    variant = VARIANTS[name]
    g = _grade(variant)
    assert g.returncode == 0, g.stderr
    assert g.failed() == variant.fails
    rubric = load_rubric()
    assert g.results["score"] == CODE_MAX - sum(rubric.entries[t].points for t in variant.fails)
    for test_id in variant.fails:
        output = g.by_id()[test_id]["output"]
        assert variant.message in output, output
        assert not g.by_id()[test_id]["extra_data"]["grader_error"]


def test_infinite_loop_costs_only_its_tests() -> None:
    g = _grade(VARIANTS["infinite_loop"])
    # Each timeout stopped a worker (listed in the report); the next test got a fresh one.
    assert "- worker 1: " in g.report_md and "- worker 2: " in g.report_md
    lost = sum(load_rubric().entries[t].points for t in VARIANTS["infinite_loop"].fails)
    assert g.scores()["test_add_noise"] == 0 and sum(g.scores().values()) == CODE_MAX - lost


@pytest.mark.parametrize("test_id", list(HINTS))
def test_known_mistakes_are_named(test_id: str) -> None:
    test = _mistakes().by_id()[test_id]
    assert test["status"] == "failed"
    assert HINTS[test_id] in test["output"], test["output"]
    # The matched mistake travels as data too (no report parses the message for it).
    said = re.search(r"matches a known mistake: (.+)", test["output"])
    assert test["extra_data"]["mistake"] == (said.group(1).strip() if said else None)
    if test_id == "test_q_sample_closed_form":
        assert test["extra_data"]["mistake"].startswith(HINTS[test_id])


def test_the_summary_lists_missing_names() -> None:
    assert "schedules: missing sigmoid_beta_schedule" in _grade(VARIANTS["missing_function"]).results["output"]
    assert "flow: importing flow.py failed: SyntaxError" in _grade(VARIANTS["syntax_error"]).results["output"]
