"""The cs180-fa24-ddpm dialect end to end: CS180 Fall 2024 Project 5B notebooks graded through the
course's own API (tests/grader_fixtures/cs180_fa24.py: a complete notebook, a variant with the correct
variations real submissions show, the unfilled notebook and realistic bugs), by the command's entry
point, in the sandbox."""

from __future__ import annotations

import pytest

from grader.dialects import choose
from grader.rubric import load_rubric
from grader.submission import load_submission
from tests.grader_fixtures import cs180_fa24 as cs
from tests.grader_fixtures.dialects import expect_caught_and_named, expect_full_marks
from tests.grader_fixtures.grading import graded, workdir

RUBRIC = load_rubric(dialect="cs180-fa24-ddpm")
MAX = RUBRIC.max_score


def test_the_rubric_is_the_course_assignment() -> None:
    assert set(RUBRIC.entries) == set(cs.ALL)
    assert MAX == 41
    assert not {"test_q_sample_closed_form", "test_p_sample_mean", "test_add_noise", "test_modulation_mul",
                "test_ddpm_sample_seed", "test_fm_interpolate"} & set(RUBRIC.entries)


def test_the_notebook_is_detected_and_keeps_its_definitions_in_cell_order() -> None:
    path = cs.notebook(cs.REFERENCE.read_text(), workdir("cs180-detect") / "proj5b.ipynb")
    sub = load_submission(path)
    choice = choose(sub.files)
    assert choice.dialect.name == "cs180-fa24-ddpm" and "ddpm_forward" in choice.why
    code = sub.files["_notebook.py"].decode()
    assert "_DEFINITIONS" in code and "drive.mount" in " ".join(sub.dropped)
    solution = {p.name: p.read_bytes() for p in (cs.HERE.parents[2] / "solution").glob("*.py")}
    assert choose(solution).dialect.name == "contract"


def test_reference_notebook_gets_full_marks() -> None:
    g = graded(str(cs.notebook(cs.REFERENCE.read_text(), workdir("cs180") / "reference" / "proj5b.ipynb")))
    assert g.returncode == 0, g.stderr
    assert g.results["extra_data"]["dialect"] == "cs180-fa24-ddpm"
    expect_full_marks(g, MAX)
    # the Colab-only import failed alone (the rest of its cell and the next cells ran), and a package the
    # grader lacks is named in one line
    assert "google" in g.report_md and "left out" in g.report_md
    assert "the package wandb is not installed for grading" in g.report_md


@pytest.mark.parametrize("variant", cs.CORRECT, ids=lambda v: v.name)
def test_correct_variations_keep_full_marks(variant) -> None:
    expect_full_marks(graded(str(variant.build(workdir("cs180")))), MAX)


@pytest.mark.parametrize("variant", cs.BUGS, ids=lambda v: v.name)
def test_bugs_are_caught_and_named(variant) -> None:
    g = graded(str(variant.build(workdir("cs180"))), "--tests", variant.tests)
    expect_caught_and_named(g, variant, RUBRIC, variant.tests)


def test_unfilled_notebook_scores_at_most_a_tenth() -> None:
    g = graded(str(cs.build_skeleton(workdir("cs180"))))
    assert g.results["extra_data"]["dialect"] == "cs180-fa24-ddpm"
    assert g.results["score"] <= 0.1 * MAX and g.failed() == set(cs.ALL)
