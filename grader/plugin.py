"""The pytest plugin that turns the catalog's tests into graded results.

A catalog test is a pytest test marked with @graded, which declares its title, points,
visibility and fallback hint beside it (grader/rubric.py reads those declarations from the
source, without importing the catalog). The plugin runs only the selected tests, visible ones
first, and records each verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from .checks.expect import Mismatch
from .results import FigureVerdict, TestResult
from .rubric import Rubric
from .sandbox.client import WorkerStartError
from .sandbox.student import Student, StudentError
from .submission.deliverables import Deliverables, none_found

GRADER_KEY = pytest.StashKey["GradingPlugin"]()
SETUP_KEY = pytest.StashKey[float]()  # a test's setup time, added to its call's: a part's time is the whole test's
HintFn = Callable[[BaseException], "str | None"]


def graded(title: str, points: float, visibility: str = "visible", hint: str | None = None,
           when: HintFn | None = None, dialects: tuple[str, ...] | None = None,
           ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a graded test of the catalog: what the student sees as its name, the points it earns
    when it passes (all or nothing), who sees it (visible, hidden, after_published), a fallback hint
    for a failure. Title, points, visibility and hint must be literals: the rubric is read from the
    source (grader/rubric.py). `when(exc)` may return a more specific hint (it sees the exception
    the test raised). `dialects`: a test of some course dialects only, not of the contract (see
    grader/dialects/); a dialect lists the contract's tests that apply to it in its own module."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        return pytest.mark.graded(title=title, points=points, visibility=visibility, hint=hint, when=when)(fn)

    return mark


def self_check(*covers: str, points: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a test of the students' self-check, beside the graded tests whose contract side it
    checks (`covers`: their names, visible ones only). Its name starts with `public_`, so the grader
    never runs it; tools/make_self_check.py copies it into student/public_tests/ as `test_...`. It may
    use only what a student has: the fixtures `hw` (their modules), `kit` (stand-in networks and
    inputs), `time_net`, `class_net`, and torch and pytest; never the grader's reference answers."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.self_check = {"covers": covers, "points": points}
        return fn

    return mark


class CatalogError(RuntimeError):
    """The catalog and the rubric disagree: a grader bug, not the student's."""


class GradingPlugin:
    def __init__(
        self,
        student: Student,
        rubric: Rubric,
        selection: str,
        deliverables: Deliverables | None = None,
        no_figures: str | None = None,
    ) -> None:
        self.student = student
        self.rubric = rubric
        self.selection = selection
        self.deliverables = deliverables  # the figures/ and losses/ the figure tests judge
        self.no_figures = no_figures or none_found()  # what every figure test says when there are none
        self.figures: list[FigureVerdict] = []  # filled by the figure tests, for the report
        self.results: dict[str, TestResult] = {}
        self.problems: list[str] = []
        self.deadline: float | None = None  # time.monotonic() after which no test starts
        self.total_s = 0.0

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """A submission that used up the grade's wall-clock budget fails the tests still to run
        (its own doing, not the grader's: a StudentError)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise StudentError("time", f"not run: the submission used up the grade's total time limit of "
                               f"{self.total_s:g} s (its code was too slow in the tests before this one)")

    @pytest.hookimpl
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[GRADER_KEY] = self  # how the catalog's fixtures find the student

    def _selected(self, test_id: str) -> bool:
        entry = self.rubric.entries.get(test_id)  # a test not part of this dialect's assignment never runs
        return entry is not None and entry.selected(self.selection)

    @pytest.hookimpl
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list) -> None:
        found = {item.originalname: item for item in items}
        for name, item in found.items():
            if item.get_closest_marker("graded") is None:
                self.problems.append(f"{name} is in the catalog but not marked @graded")
            elif not self.rubric.declared(name):
                self.problems.append(f"{name} is not in the rubric read from the catalog's source")
        self.problems += [f"the rubric has {name} but pytest collected no such test"
                          for name in self.rubric.entries if name not in found]
        if self.problems:
            raise CatalogError("; ".join(self.problems))
        # Visible tests first, then the others: every visible test's output is final before any input
        # or expected value of a hidden test reaches a worker, so none can come back in a visible
        # test's output. The report keeps the rubric's order.
        order = list(self.rubric.entries)
        keep = sorted((i for i in items if self._selected(i.originalname)),
                      key=lambda i: (not self.rubric.entries[i.originalname].public, order.index(i.originalname)))
        deselected = [i for i in items if i not in keep]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = keep

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        report = outcome.get_result()
        if report.when == "setup":
            item.stash[SETUP_KEY] = call.duration
            self.student.via = []
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self._record(item, call, report.passed)

    def _record(self, item: pytest.Item, call: pytest.CallInfo, passed: bool) -> None:
        entry = self.rubric.entries[item.originalname]
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, WorkerStartError):  # no test can run: stop here, the grader reports the error
            item.session.shouldstop = f"the sandbox could not start: {exc}"
        message, hint, grader_error = "", None, False
        if exc is not None:
            message, hint, grader_error = explain(exc, item)
            if self.student.via and not grader_error:  # a dialect's adapter: the course's calls behind the probe
                message += "\n\nCalled in this course's API as:\n" + "\n".join(f"  {v}" for v in self.student.via)
        failed = getattr(exc, "failed", None) if isinstance(exc, AssertionError) else None  # figures' verdicts
        self.results[entry.id] = TestResult(
            id=entry.id, number=entry.number, title=entry.title, part=entry.part, max_score=entry.points,
            score=entry.points if passed else 0.0, passed=passed, visibility=entry.visibility,
            message=message, hint=hint or (None if passed else entry.hint), grader_error=grader_error,
            duration_s=round(item.stash.get(SETUP_KEY, 0.0) + (call.duration if call.when == "call" else 0.0), 3),
            mistake=exc.mistake if isinstance(exc, Mismatch) else None,
            failed_checks=[f"{v.file} ({v.check})" for v in failed or [] if isinstance(v, FigureVerdict)],
        )


def explain(exc: BaseException, item: pytest.Item) -> tuple[str, str | None, bool]:
    """(message, hint, grader_error) for a failed test."""
    marker = item.get_closest_marker("graded")
    hint_fn = marker.kwargs.get("when") if marker else None
    custom = None
    if hint_fn is not None:
        try:
            custom = hint_fn(exc)
        except Exception:  # a broken hint function must not hide the verdict
            custom = None
    if isinstance(exc, Mismatch):
        return str(exc), exc.hint or custom, False
    if isinstance(exc, StudentError):
        return str(exc), custom, False
    if isinstance(exc, AssertionError):
        return str(exc).split("\nassert ")[0], custom, False
    return (f"The grader itself failed on this test ({type(exc).__name__}: {exc}). This is not your fault: "
            "please tell the course staff.", None, True)
