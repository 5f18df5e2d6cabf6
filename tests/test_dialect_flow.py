"""The cs180-flow dialect end to end: CS180 flow-matching notebooks graded through the course's own API
(tests/grader_fixtures/cs180_flow.py: a complete notebook, a variant with the names and arguments the one
observed submission used, the unfilled notebook and realistic bugs), by the command's entry point, in
the sandbox."""

from __future__ import annotations

import pytest

from grader.dialects import choose
from grader.rubric import load_rubric
from grader.submission import load_submission
from tests.grader_fixtures import cs180_flow as flow
from tests.grader_fixtures.cs180_fa24 import notebook
from tests.grader_fixtures.dialects import expect_caught_and_named, expect_full_marks
from tests.grader_fixtures.grading import graded, workdir

RUBRIC = load_rubric(dialect="cs180-flow")
MAX = RUBRIC.max_score


def _reference() -> str:
    return str(notebook(flow.REFERENCE.read_text(), workdir("flow") / "reference" / "proj5b.ipynb"))


def test_the_rubric_is_the_course_assignment() -> None:
    assert set(RUBRIC.entries) == set(flow.ALL) and MAX == 26
    # this handout multiplies the time embedding: the contract's additive designs are not part of it
    assert not {"test_params_conditional", "test_modulation_mul", "test_modulation_form", "test_fm_interpolate",
                "test_fm_sample_seed", "test_flow_matching_wrapper", "test_ddpm_forward_t_range"} & set(RUBRIC.entries)


def test_the_notebook_is_detected() -> None:
    choice = choose(load_submission(_reference_path()).files)
    assert choice.dialect.name == "cs180-flow" and "fm_sample" in choice.why


def test_a_contract_submission_missing_some_functions_stays_the_contract_s() -> None:
    """Detection looks at the whole submission: the contract's flow.py or notebook without fm_interpolate
    (a broken cell) still defines the contract's q_sample elsewhere."""
    defined = {"flow": {"fm_forward", "fm_sample", "FlowMatching"}, "diffusion": {"q_sample", "ddpm_forward",
                                                                                 "ddpm_sample", "ddpm_schedule"}}
    files = {f"{stem}.py": "".join(f"def {n}(): pass\n" for n in sorted(names) if n[0].islower()).encode()
             for stem, names in defined.items()}
    assert choose(files).dialect.name == "contract"
    del files["diffusion.py"]
    assert choose(files).dialect.name == "cs180-flow"


def _reference_path():
    return notebook(flow.REFERENCE.read_text(), workdir("flow-detect") / "proj5b.ipynb")


def test_reference_notebook_gets_full_marks() -> None:
    g = graded(_reference())
    assert g.returncode == 0, g.stderr
    assert g.results["extra_data"]["dialect"] == "cs180-flow"
    expect_full_marks(g, MAX)


@pytest.mark.parametrize("variant", flow.CORRECT, ids=lambda v: v.name)
def test_correct_variations_keep_full_marks(variant) -> None:
    expect_full_marks(graded(str(variant.build(workdir("flow")))), MAX)


@pytest.mark.parametrize("variant", flow.BUGS, ids=lambda v: v.name)
def test_bugs_are_caught_and_named(variant) -> None:
    g = graded(str(variant.build(workdir("flow"))), "--tests", variant.tests)
    expect_caught_and_named(g, variant, RUBRIC, variant.tests)


def test_unfilled_notebook_scores_at_most_a_tenth() -> None:
    g = graded(str(flow.build_skeleton(workdir("flow"))))
    assert g.results["extra_data"]["dialect"] == "cs180-flow"
    assert g.results["score"] <= 0.1 * MAX and g.failed() == set(flow.ALL)
