"""Mutation testing of the grader: every realistic bug of tests/grader_fixtures/mutants.py loses
the points of the test it names, with the hint that names the bug where the grader knows it;
every stub of the skeleton has a mutant; the mutation score is written to build/mutation-score.json.

Each mutant is graded on the part of the test it names (a train.py mutant on that test alone:
its part also holds the training smoke runs): one small edit, and the exact tests must tell.
TESTS, the code's tests without the smoke runs and figures, is what the correct and hostile
corpora are graded on."""

from __future__ import annotations

import ast
import json

import pytest

from grader.rubric import load_rubric
from tests.grader_fixtures.grading import ROOT, Graded, graded, workdir
from tests.grader_fixtures.mutants import MUTANTS, Mutant
from tests.grader_fixtures.variants import SOLUTION, TRAIN_PY

BY_NAME = {m.name: m for m in MUTANTS}
CODE_PARTS = [key for key in load_rubric().parts if key not in ("training", "figures")]
TESTS = ",".join(CODE_PARTS + TRAIN_PY)
SCORE_FILE = ROOT / "build" / "mutation-score.json"


def _grade(m: Mutant) -> Graded:
    part = load_rubric().entries[m.catches].part
    return graded(str(m.variant().build(workdir("mutants"))), "--tests", m.catches if part == "training" else part)


def _verdict(m: Mutant) -> dict:
    test = _grade(m).by_id()[m.catches]
    return {"caught": test["status"] == "failed" and test["score"] == 0,
            "hinted": m.hint is not None and m.hint in test["output"],
            "grader_error": test["extra_data"]["grader_error"], "output": test["output"]}


def stubs() -> set[str]:
    """module.qualname of every function of solution/ that holds a marked solution region."""
    found = set()
    for path in SOLUTION.glob("*.py"):
        lines = path.read_text().splitlines()

        def visit(node: ast.AST, prefix: str, lines: list[str] = lines) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                    name = f"{prefix}.{child.name}"
                    body = lines[child.lineno - 1: child.end_lineno]
                    if isinstance(child, ast.FunctionDef) and any("# BEGIN SOLUTION" in line for line in body):
                        found.add(name)
                    visit(child, name)

        visit(ast.parse("\n".join(lines)), path.stem)
    return found


def test_mutants_are_well_formed() -> None:
    assert len(MUTANTS) >= 30 and len(BY_NAME) == len(MUTANTS)
    ids = set(load_rubric().entries)
    for m in MUTANTS:
        assert m.catches in ids, f"{m.name}: no test {m.catches}"
        assert m.stub in stubs(), f"{m.name}: {m.stub} holds no solution region"


# Stubs whose outcome only the figures show: the grader judges them by the student's own training
# run (its figures and the model behind them), which a mutant in this suite cannot make afresh.
JUDGED_BY_FIGURES = {"config.no_scheduler": "FM 2.6: the no-scheduler run's grid and weights (test_figures_fm_class)"}


def test_every_stub_has_a_mutant() -> None:
    missing = stubs() - {m.stub for m in MUTANTS} - set(JUDGED_BY_FIGURES)
    assert not missing, f"stubs without a realistic bug in mutants.py: {sorted(missing)}"
    assert set(JUDGED_BY_FIGURES) <= stubs()


@pytest.mark.parametrize("name", list(BY_NAME))
def test_mutant_is_caught_and_named(name: str) -> None:
    m = BY_NAME[name]
    g = _grade(m)
    assert g.returncode == 0, g.stderr
    v = _verdict(m)
    assert v["caught"] and not v["grader_error"], f"{name} was not caught by {m.catches}: {v['output']}"
    if m.hint is not None:
        assert v["hinted"], f"{name}: the output of {m.catches} does not name the bug ({m.hint!r}): {v['output']}"


def test_mutation_score() -> None:
    """Issue 5's goals: every mutant caught, a hint naming the bug on at least 80% of them."""
    verdicts = {m.name: _verdict(m) for m in MUTANTS}
    caught = sum(v["caught"] for v in verdicts.values())
    hinted = sum(v["hinted"] for v in verdicts.values())
    score = {"mutants": len(MUTANTS), "caught": caught, "hinted": hinted,
             "mutation_score": caught / len(MUTANTS), "hint_rate": hinted / len(MUTANTS),
             "missed": [k for k, v in verdicts.items() if not v["caught"]]}
    SCORE_FILE.parent.mkdir(exist_ok=True)
    SCORE_FILE.write_text(json.dumps(score, indent=1) + "\n")
    assert caught == len(MUTANTS), score["missed"]
    assert hinted >= 0.8 * len(MUTANTS), score
