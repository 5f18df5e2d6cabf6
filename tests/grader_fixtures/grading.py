"""Grading through the real command line, once per submission per test session.

Every results.json produced here is validated against Gradescope's schema before a test sees it.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from grader.rubric import load_rubric
from grader.submission.deliverables import NONE_FOUND

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
WORK = Path(tempfile.mkdtemp(prefix="grader-tests-"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
# The figure tests judge a submission's figures/ folder: the submissions graded here have none, so
# those tests fail with one line (NONE_FOUND) and the code's tests are compared on their own.
FIGURE_TESTS = frozenset(e.id for e in load_rubric().entries.values() if e.part == "figures")
CODE_MAX = sum(e.points for e in load_rubric().entries.values() if e.part != "figures")


@dataclass
class Graded:
    returncode: int
    stdout: str
    stderr: str
    out: Path
    results: dict  # results.json

    def by_id(self) -> dict[str, dict]:
        return {t["extra_data"]["id"]: t for t in self.results["tests"]}

    def scores(self) -> dict[str, float]:
        return {k: t["score"] for k, t in self.by_id().items()}

    def failed(self, figures: bool = False) -> set[str]:
        """The failed tests of the code (and of the figures too when `figures`)."""
        return {k for k, t in self.by_id().items() if t["status"] == "failed" and (figures or k not in FIGURE_TESTS)}

    def figures_missing(self) -> bool:
        """Every figure test ran and failed with the one line saying there is no figures/ folder."""
        tests = self.by_id()
        return all(tests[k]["score"] == 0 and tests[k]["output"].startswith(NONE_FOUND) for k in FIGURE_TESTS)

    @property
    def report_md(self) -> str:
        return (self.out / "report.md").read_text()

    @property
    def report_html(self) -> str:
        return (self.out / "report.html").read_text()


def validate(results: dict) -> None:
    jsonschema.validate(results, SCHEMA)


def run_cli(submission: Path | str, name: str, *args: str, timeout: float = 240) -> Graded:
    """python -m grader SUBMISSION --out <tmp>/<name> ARGS, from the repository root."""
    out = WORK / name
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "grader", str(submission), "--out", str(out), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env,
    )
    results = {}
    if (out / "results.json").exists():
        results = json.loads((out / "results.json").read_text())
        validate(results)
    return Graded(proc.returncode, proc.stdout, proc.stderr, out, results)


@functools.cache
def graded(submission: str, *args: str) -> Graded:
    """Grade once per session (the expensive part of these tests) and share the result."""
    name = "-".join([Path(submission).name, *[a.strip("-") for a in args]]).replace("/", "_")
    return run_cli(submission, name, *args)


def workdir(name: str) -> Path:
    path = WORK / name
    path.mkdir(parents=True, exist_ok=True)
    return path
