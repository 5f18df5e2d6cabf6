"""Checks shared by the course dialects' corpus tests (tests/test_dialect_*.py)."""

from __future__ import annotations

from typing import Any

from grader.rubric import Rubric

from .grading import Graded


def expect_full_marks(g: Graded, max_score: float) -> None:
    assert g.results["score"] == max_score, {t: g.by_id()[t]["output"][:400] for t in g.failed()}


def expect_caught_and_named(g: Graded, variant: Any, rubric: Rubric, selection: str = "all",
                            calls_shown: bool = False) -> None:
    """The bug loses exactly its tests' points, one of them names it (variant.message), and with
    `calls_shown` every failed test shows the course's calls behind its probe."""
    assert g.failed() == variant.fails
    graded_max = sum(e.points for e in rubric.entries.values() if e.selected(selection))
    assert g.results["score"] == graded_max - sum(rubric.entries[t].points for t in variant.fails)
    outputs = {test: g.by_id()[test]["output"] for test in variant.fails}
    assert any(variant.message in text for text in outputs.values()), {t: o[:600] for t, o in outputs.items()}
    for test, output in outputs.items():
        if calls_shown:
            assert "Called in this course's API as" in output or "Diffusion(" in output, (test, output[:600])
