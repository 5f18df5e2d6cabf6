"""The adl-ex02 dialect end to end: FAU ADL Exercise 2 graded through the course's own API.

The corpus (tests/grader_fixtures/adl_ex02.py) is a complete Exercise 2, its correct variations, the
unfilled skeleton and realistic bugs; each is graded by the real command's entry point, in the sandbox.
"""

from __future__ import annotations

import pytest

from grader.dialects import DIALECTS, PLANNED, DialectError, choose
from grader.rubric import load_rubric
from tests.grader_fixtures import adl_ex02 as adl
from tests.grader_fixtures.dialects import expect_caught_and_named, expect_full_marks
from tests.grader_fixtures.grading import graded, workdir

RUBRIC = load_rubric(dialect="adl-ex02")
MAX = RUBRIC.max_score


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.glob("*.py")}


def test_the_rubric_is_the_course_assignment() -> None:
    assert set(RUBRIC.entries) == set(adl.ALL), "the corpus's lists follow the dialect's rubric"
    assert MAX == 40
    contract = load_rubric()
    assert set(RUBRIC.not_applicable) == set(contract.entries) - set(RUBRIC.entries)
    assert not set(contract.entries) & {"test_cosine_schedule_either_clip", "test_p_sample_either_variance"}
    numbers = [e.number for e in RUBRIC.entries.values() if e.part == "schedules"]
    assert numbers == ["3.1", "3.2", "3.3"], "tests are numbered among those that apply"


def test_the_dialect_is_detected_from_the_files() -> None:
    choice = choose(_files(adl.REFERENCE))
    assert choice.dialect.name == "adl-ex02" and "ex02_diffusion.py" in choice.why
    assert choose(_files(adl.REFERENCE), "contract").why == "chosen with --dialect contract"
    solution = {p.name: p.read_bytes() for p in (adl.HERE.parents[2] / "solution").glob("*.py")}
    assert choose(solution).dialect.name == "contract"
    assert choose({"ex02_diffusion.py": b"def broken(:\n"}).dialect.name == "adl-ex02"
    for name in PLANNED:
        with pytest.raises(DialectError, match="not graded yet"):
            choose({}, name)
    with pytest.raises(DialectError, match="unknown dialect"):
        choose({}, "cs999")
    assert set(DIALECTS) == {"contract", "adl-ex02", "cs180-fa24-ddpm", "cs180-flow"}


def test_reference_gets_full_marks_and_says_how_it_was_graded() -> None:
    g = graded(str(adl.REFERENCE))
    assert g.returncode == 0, g.stderr
    assert g.results["score"] == MAX and not g.failed(figures=True), g.failed(figures=True)
    extra = g.results["extra_data"]
    assert extra["dialect"] == "adl-ex02" and "auto-detected" in extra["dialect_chosen"]
    assert {n["id"] for n in extra["not_applicable"]} == set(RUBRIC.not_applicable)
    assert "Graded as adl-ex02" in g.results["output"]
    assert "Not part of this course's assignment" in g.report_md and 'id="not-applicable"' in g.report_html


@pytest.mark.parametrize("variant", adl.CORRECT, ids=lambda v: v.name)
def test_correct_variations_keep_full_marks(variant: adl.Variant) -> None:
    expect_full_marks(graded(str(variant.build(workdir("adl")))), MAX)


@pytest.mark.parametrize("variant", adl.BUGS, ids=lambda v: v.name)
def test_bugs_are_caught_and_named(variant: adl.Variant) -> None:
    schedules = variant.fails <= {"test_linear_schedule", "test_cosine_schedule_either_clip",
                                  "test_sigmoid_schedule_any_range"}
    expect_caught_and_named(graded(str(variant.build(workdir("adl")))), variant, RUBRIC, calls_shown=not schedules)


def test_unfilled_skeleton_scores_at_most_a_tenth() -> None:
    g = graded(str(adl.build_skeleton(workdir("adl"))))
    assert g.results["extra_data"]["dialect"] == "adl-ex02"
    assert 0 <= g.results["score"] <= 0.1 * MAX
    assert g.failed() == set(adl.ALL) - {"test_linear_schedule"}  # the given linear schedule only
