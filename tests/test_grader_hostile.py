"""Hostile submissions (tests/grader_fixtures/hostile.py): each is graded to completion, loses
exactly the tests its code breaks, gains nothing from its attack, and cannot touch the
grader's outputs. Each is graded on the parts its attack reaches (`selection`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

import pytest

from grader.launch import can_isolate
from grader.rubric import load_rubric
from tests.grader_fixtures.corpus import CLASSES, HOSTILE_CLASS, all_cases
from tests.grader_fixtures.grading import ROOT, graded, graded_by_command, workdir
from tests.grader_fixtures.hostile import FLOW_IMPORT, PROBE_PARTS, PROBE_SHAPED, Hostile, cases
from tests.grader_fixtures.variants import Variant
from tests.test_grader_mutants import TESTS

IS_ROOT = os.geteuid() == 0
NAMESPACES = can_isolate()  # root, or an ordinary user who may create user namespaces
# A listener the network case tries to reach: it must not get through.
LISTENER = socket.socket()
LISTENER.bind(("127.0.0.1", 0))
LISTENER.listen(8)
BY_NAME = {h.name: h for h in cases(LISTENER.getsockname()[1])}
MAX_OUTPUT = 20_000  # characters of a test's output in results.json, whatever the submission prints or raises


def selection(h: Hostile) -> str:
    """What a case is graded on: the parts of the tests it must lose (a test of train.py by name: its
    part also holds the training runs) and the parts it names; all of the code's tests when neither."""
    rubric = load_rubric().entries
    chosen = {t if rubric[t].part == "training" else rubric[t].part for t in h.fails}
    chosen |= {p for p in h.parts.split(",") if p}
    return ",".join(sorted(chosen)) or TESTS


def _max(tests: str) -> float:
    return sum(e.points for e in load_rubric().entries.values() if e.selected(tests))


# Attacks on the grader's process, its outputs, what is left behind or what can be read run through the real
# command, in a process of its own; the others (the worker exhausting itself, its replies, slow or forged work)
# through the command's entry point in this process, which saves an interpreter per case.
APART = {"grader", "leftover", "outputs", "reading"}


def _grade(h: Hostile):
    folder = h.variant().build(workdir("hostile"))
    for name in h.drop:
        (folder / name).unlink(missing_ok=True)
    args = ["--tests", selection(h)] + (["--timeout", str(h.timeout)] if h.timeout else [])
    if HOSTILE_CLASS[h.name] not in APART:
        return graded(str(folder), *args)
    if not h.plant_copy:
        return graded_by_command(str(folder), *args)
    # Another checkout of the project on the same machine, open to every user.
    other = Path(tempfile.mkdtemp(prefix="other-checkout-", dir="/tmp"))
    try:
        shutil.copytree(ROOT / "solution", other / "solution", ignore=shutil.ignore_patterns("__pycache__"))
        for path in [other, *other.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        return graded_by_command(str(folder), *args)
    finally:
        shutil.rmtree(other, ignore_errors=True)


def test_the_corpus_is_large_enough() -> None:
    """The whole corpus (tests/grader_fixtures/corpus.py, from which docs/validity.md is written):
    at least 45 cases, every class of the threat model tried, every case a test that exists."""
    import importlib

    every = all_cases()
    assert len(every) >= 45 and {c.cls for c in every} == set(CLASSES)
    assert set(HOSTILE_CLASS) == set(BY_NAME) and set(HOSTILE_CLASS.values()) <= set(CLASSES)
    for case in every:
        path, name = case.test.split("::")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, name.split("[")[0], None)), case.test


@pytest.mark.parametrize("name", list(BY_NAME))
def test_hostile_submission_gains_nothing(name: str) -> None:
    h = BY_NAME[name]
    if h.needs_root and not IS_ROOT:
        pytest.skip("only root can stop this attack (see docs/security.md)")
    if h.needs_namespaces and not NAMESPACES:
        pytest.skip("neither root nor user namespaces: the worker cannot be isolated (see docs/security.md)")
    g = _grade(h)
    assert g.returncode == 0, g.stderr
    assert g.failed() == h.fails, g.failed() ^ h.fails
    lost = sum(load_rubric().entries[t].points for t in h.fails)
    assert g.results["score"] == _max(selection(h)) - lost
    for test_id in h.fails:
        output = g.by_id()[test_id]["output"]
        assert h.message in output, output
        assert not g.by_id()[test_id]["extra_data"]["grader_error"]
    # The grader's outputs are its own: nothing else in OUT, and results.json is what it computed.
    assert sorted(p.name for p in g.out.iterdir()) == ["report.html", "report.md", "results.json"]
    assert json.loads((g.out / "results.json").read_text()) == g.results
    assert max(len(t["output"]) for t in g.results["tests"]) <= MAX_OUTPUT, "an output field is not capped"
    if h.linger_s:  # and they stay its own after it exited
        time.sleep(h.linger_s)
        assert json.loads((g.out / "results.json").read_text()) == g.results


# Every call of q_sample and fm_interpolate is logged in the worker's home; fm_interpolate then
# fails with a digest of everything logged so far: what its worker had been sent before.
_LOG = ("import hashlib as _h, os as _o\n"
        "def _log(name, *args):\n"
        "    path = _o.path.join(_o.environ['HOME'], 'calls.log')\n"
        "    with open(path, 'a') as f:\n"
        "        f.write(name + repr([getattr(a, 'shape', a) for a in args]) + '\\n')\n"
        "    return open(path).read()\n")
_SPY = Variant("hidden_spy", (
    ("diffusion.py", '    """Forward process in closed form: x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) noise."""\n',
     '    """Forward process in closed form: x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) noise."""\n'
     "    from .flow import _log\n    _log('q_sample', x0, t, noise)\n"),
    ("flow.py", '    """x_t = (1 - t) x0 + t x1, with t a scalar or one value per sample ((N,) or (N, 1))."""\n',
     '    """x_t = (1 - t) x0 + t x1, with t a scalar or one value per sample ((N,) or (N, 1))."""\n'
     "    seen = _log('fm_interpolate', x0, x1, t)\n"
     "    raise RuntimeError(f'seen {seen.count(chr(10))} calls, digest {_h.sha256(seen.encode()).hexdigest()}')\n"),
    ("flow.py", FLOW_IMPORT, _LOG + FLOW_IMPORT),
), frozenset(), "")


def test_a_visible_test_s_output_is_the_same_with_or_without_the_hidden_tests() -> None:
    """Hidden-probe leakage: a worker may log every input it is sent and return the log in an error
    message. The visible tests run first and the others afterwards, so a visible test's output is
    final before any hidden input is sent: the spy's message is the same with and without them.
    (Graded in the rubric's order, the spy's log would hold the hidden q_sample test's calls, and
    the digest would differ.)"""
    folder = _SPY.build(workdir("hostile"))
    parts = ["q_sample", "flow"]
    rubric = load_rubric()
    visible = [e.id for e in rubric.entries.values() if e.part in parts and e.public]
    assert any(not e.public for e in rubric.entries.values() if e.part == "q_sample")
    full = graded_by_command(str(folder), "--tests", ",".join(parts))
    public = graded_by_command(str(folder), "--tests", ",".join(visible))
    assert full.returncode == 0 and public.returncode == 0, full.stderr + public.stderr
    spied = full.by_id()["test_fm_interpolate"]["output"]
    assert "seen " in spied and spied == public.by_id()["test_fm_interpolate"]["output"]
    hidden = [t for t, r in full.by_id().items() if not rubric.entries[t].public and "seen " in r["output"]]
    assert hidden, "no hidden test reached the spy: the comparison above would prove nothing"


def test_a_probe_shaped_fake_earns_at_most_two_points() -> None:
    """Right calls, right t, right shapes, noise or constants for values: the diffusion and flow parts
    (80 points) give it at most 2 (measured: 0; before the paired value checks: 10)."""
    g = graded_by_command(str(PROBE_SHAPED.build(workdir("hostile"))), "--tests", PROBE_PARTS)
    assert g.returncode == 0, g.stderr
    assert g.results["score"] <= 2, {t: r["score"] for t, r in g.by_id().items() if r["score"]}
    assert not any(r["extra_data"]["grader_error"] for r in g.by_id().values())
