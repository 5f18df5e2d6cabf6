"""What a catalog test of the figures calls: judge every figure of some handout parts, then the
model behind them (models.py), record each verdict for the report, and fail with the list of
what failed and why."""

from __future__ import annotations

from ..results import FigureVerdict
from .judge import Judge
from .models import Models


class FiguresFailed(AssertionError):
    """Some figures (or the model behind them) failed: `failed` holds their verdicts."""

    def __init__(self, failed: list[FigureVerdict], total: int) -> None:
        self.failed = failed
        lines = [f"{v.file} ({v.check}): {v.message}" for v in failed]  # the first names a failure
        super().__init__("\n".join(lines + [f"({len(failed)} of {total} checks failed)"]))


class FigureTests:
    def __init__(self, judge: Judge | None, missing: str, record: list[FigureVerdict],
                 models: Models | None = None) -> None:
        self.judge = judge  # None: there are no deliverables to judge
        self.missing = missing  # the one line every figure test fails with then
        self.record = record
        self.models = models  # None: the figures are judged alone (no submission code to load weights into)

    def expect(self, *parts: str) -> None:
        """Judge the manifest's figures of these handout parts (e.g. "2.2", "FM 2.3"), then the
        weights of the runs that made them (once the figures pass: a failed figure fails the test anyway)."""
        if self.judge is None:
            raise AssertionError(self.missing)
        figures = [f for f in self.judge.manifest if f["part"] in parts]
        if not figures:
            raise ValueError(f"the manifest has no figures of parts {parts}")  # a grader bug
        verdicts = [self.judge.judge(f) for f in figures]
        self.record += verdicts
        failed = [v for v in verdicts if not v.passed]
        runs = list(dict.fromkeys(f["run"] for f in figures if f.get("run")))
        if not failed and runs and self.models is not None:
            for run in runs:
                verdict, new = self.models.verify(run)
                if new:
                    self.record.append(verdict)
                verdicts.append(verdict)
                failed += [] if verdict.passed else [verdict]
        if failed:
            raise FiguresFailed(failed, len(verdicts))
