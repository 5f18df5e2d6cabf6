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

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
WORK = Path(tempfile.mkdtemp(prefix="grader-tests-"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)


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

    def failed(self) -> set[str]:
        return {k for k, t in self.by_id().items() if t["status"] == "failed"}

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
