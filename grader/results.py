"""The outcome of a grading run, and its Gradescope form (results.json)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class, despite its name

    id: str
    number: str
    title: str
    part: str
    max_score: float
    score: float
    passed: bool
    visibility: str
    message: str = ""  # why it failed: expected / got, or the student's error
    hint: str | None = None
    grader_error: bool = False  # the grader itself failed on this test (not the student's fault)
    duration_s: float = 0.0
    mistake: str | None = None  # the known mistake the answer matched (checks/misconceptions.py)
    failed_checks: list[str] = field(default_factory=list)  # figure tests: "<file> (<check>)" of each failed one

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"

    def shown(self, audience: str = "ta") -> tuple[str, str | None]:
        """(message, hint) as `audience` may read them: a student never reads a hidden test's."""
        if audience == "student" and self.visibility == "hidden":
            return KEPT_BACK, None
        return self.message.strip() or "Failed.", self.hint

    def output(self, audience: str = "ta") -> str:
        if self.passed:
            return "Passed."
        message, hint = self.shown(audience)
        return message + (f"\n\nHint: {hint}" if hint else "")

    def markdown(self, audience: str = "ta") -> str:
        """The output as Gradescope shows it with output_format "md": the message verbatim in a
        fence (expected / got tables keep their columns), the hint as prose."""
        if self.passed:
            return "Passed."
        message, hint = self.shown(audience)
        return fence(message) + (f"\n\n**Hint:** {hint}" if hint else "")


KEPT_BACK = "The course keeps this test's details back; its points count in your total."


def fence(text: str) -> str:
    """`text` verbatim in a Markdown code fence longer than any run of backticks inside it."""
    bar = "`" * max(3, max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{bar}text\n{text.rstrip()}\n{bar}"


@dataclass
class FigureVerdict:
    """The verdict on one deliverable figure of the manifest; the report shows it with the image."""

    id: str
    file: str
    shows: str
    check: str
    passed: bool
    message: str  # what was measured against which threshold, or why the figure could not be read
    part: str = ""  # the handout's part
    image: bytes | None = None  # the file's bytes (PNG or GIF) to embed in the report; None when unreadable
    numbers: dict[str, float] = field(default_factory=dict)

    @property
    def mime(self) -> str:
        return "image/gif" if self.file.lower().endswith(".gif") else "image/png"

    def summary(self) -> dict[str, Any]:
        """The verdict without the image (for results.json)."""
        keys = ("id", "file", "check", "passed", "message")
        numbers = {k: round(v, 4) if math.isfinite(v) else str(v) for k, v in self.numbers.items()}  # JSON has no inf
        return {k: getattr(self, k) for k in keys} | {"numbers": numbers}


@dataclass
class NotApplicable:
    """A catalog test that is not part of the graded dialect's assignment: out of the maximum, never scored."""

    id: str
    title: str
    part: str
    points: float


@dataclass
class GradingResult:
    submission: str  # the path as given
    origin: str  # "folder", "zip", "notebook"
    selection: str  # "all", "public" or test names
    device: str
    parts: dict[str, str]
    tests: list[TestResult]
    notes: list[str] = field(default_factory=list)  # about the submission: where its files came from, rejections
    dropped: list[str] = field(default_factory=list)  # notebook statements left out
    sandbox: dict[str, Any] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)  # workers that timed out or died
    execution_time_s: float = 0.0
    figures: list[FigureVerdict] = field(default_factory=list)  # in manifest order
    figures_source: str = ""  # where the figures were read from, or why there are none
    audience: str = "ta"  # who reads the reports: the TA (everything) or the student (no hidden test's details)
    # How results.json marks a hidden test: "hidden" (Gradescope shows it to the staff only, and hides the
    # student's total until the grades are published) or "visible" (the student sees its title and points but
    # not its details, and sees the total); the grader's default is "visible" for the student audience.
    hidden_as: str = "hidden"
    dialect: str = "contract"  # whose API the submission was graded as written to (grader/dialects/)
    dialect_why: str = ""  # how it was chosen
    not_applicable: list[NotApplicable] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    def by_part(self) -> list[tuple[str, float, float, list[TestResult]]]:
        """(part title, score, max, tests) in rubric order, parts without selected tests left out."""
        rows = []
        for key, title in self.parts.items():
            tests = [t for t in self.tests if t.part == key]
            if tests:
                rows.append((title, sum(t.score for t in tests), sum(t.max_score for t in tests), tests))
        return rows

    def failure_groups(self) -> list[list[TestResult]]:
        """The failed tests in rubric order, those of one part that failed with the same message and hint
        (as this result's audience reads them) together: nine figure tests without figures are one box."""
        groups: dict[tuple, list[TestResult]] = {}
        for t in self.tests:
            if not t.passed:
                groups.setdefault((t.part, *t.shown(self.audience)), []).append(t)
        return list(groups.values())

    def part_times(self) -> dict[str, float]:
        """Seconds each part's tests took (setup and call), by part title in rubric order."""
        return {title: round(sum(t.duration_s for t in tests), 3) for title, _, _, tests in self.by_part()}

    @property
    def grader_errors(self) -> list[str]:
        """The tests the grader itself failed on: the grade is incomplete while there are any."""
        return [t.id for t in self.tests if t.grader_error]

    def dialect_line(self) -> str:
        line = f"Graded as {self.dialect}" + (f" ({self.dialect_why})" if self.dialect_why else "")
        if self.not_applicable:
            points = sum(n.points for n in self.not_applicable)
            line += (f"; {len(self.not_applicable)} tests of the catalog ({points:g} points) are not part of "
                     "this course's assignment and are left out of the maximum")
        return line

    def summary(self) -> str:
        lines = [f"Score: {self.score:g} / {self.max_score:g}", self.dialect_line()]
        if self.grader_errors:
            lines.append(f"INCOMPLETE: the grader itself failed on {len(self.grader_errors)} tests "
                         f"({', '.join(self.grader_errors)}); this is not a verdict on the code: tell the course staff")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


def gradescope(result: GradingResult) -> dict[str, Any]:
    """results.json as Gradescope reads it (https://gradescope-autograders.readthedocs.io)."""
    return {
        "score": round(result.score, 4),
        "execution_time": round(result.execution_time_s, 2),
        "output": result.summary(),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        # Gradescope ignores extra_data: the report's extras go there, not into its own keys.
        "extra_data": {"figures": [f.summary() for f in result.figures], "part_times_s": result.part_times(),
                       "incomplete": bool(result.grader_errors), "dialect": result.dialect,
                       "dialect_chosen": result.dialect_why,
                       "not_applicable": [{"id": n.id, "title": n.title, "points": n.points}
                                          for n in result.not_applicable]},
        "tests": [
            {
                "name": t.title,
                "number": t.number,
                "score": t.score,
                "max_score": t.max_score,
                "status": t.status,
                "output": t.markdown(_reader(result, t)),
                "output_format": "md",
                "tags": [result.parts.get(t.part, t.part)],
                "visibility": "visible" if t.visibility == "hidden" and result.hidden_as == "visible" else t.visibility,
                "extra_data": {"id": t.id, "grader_error": t.grader_error, "duration_s": t.duration_s,
                               "mistake": t.mistake, "failed_checks": t.failed_checks},
            }
            for t in result.tests
        ],
    }


def _reader(result: GradingResult, t: TestResult) -> str:
    """Who may read a test's output in results.json: a hidden test shown as visible is read by the
    student whatever the run's audience; Gradescope shows a hidden one to the course staff only."""
    if t.visibility == "hidden":
        return "student" if result.hidden_as == "visible" else "ta"
    return result.audience


def results_json(result: GradingResult) -> str:
    return json.dumps(gradescope(result), indent=2, ensure_ascii=False) + "\n"
