"""What a catalog test of the figures calls: judge every figure of some handout parts, record
each verdict for the report, and fail with the list of the figures that failed and why."""

from __future__ import annotations

from ..results import FigureVerdict
from .judge import Judge


class FigureTests:
    def __init__(self, judge: Judge | None, missing: str, record: list[FigureVerdict]) -> None:
        self.judge = judge  # None: there are no deliverables to judge
        self.missing = missing  # the one line every figure test fails with then
        self.record = record

    def expect(self, *parts: str) -> None:
        """Judge the manifest's figures of these handout parts (e.g. "2.2", "FM 2.3")."""
        if self.judge is None:
            raise AssertionError(self.missing)
        figures = [f for f in self.judge.manifest if f["part"] in parts]
        if not figures:
            raise ValueError(f"the manifest has no figures of parts {parts}")  # a grader bug
        verdicts = [self.judge.judge(f) for f in figures]
        self.record += verdicts
        failed = [v for v in verdicts if not v.passed]
        if failed:  # the first line names a failure: the terminal table shows only that line
            lines = [f"{v.file} ({v.check}): {v.message}" for v in failed]
            raise AssertionError("\n".join(lines + [f"({len(failed)} of {len(verdicts)} figures failed)"]))
