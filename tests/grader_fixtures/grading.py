"""Grading through the command line's entry point, once per submission per test session.

`graded()` runs `python -m grader`'s main() in this process (the same code as the command, without
a fresh interpreter importing torch for every grade: the student's code still runs only in the
sandboxed worker it spawns) and shares the outcome with the suite's other workers through a folder
they all see; `run_cli()` runs the real command in a subprocess. Every results.json produced here
is validated against Gradescope's schema before a test sees it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from grader.rubric import load_rubric
from grader.submission.deliverables import NONE_FOUND

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
# Shared by the suite's workers (tests/conftest.py makes it and removes it at the end); a process of
# its own when this module is used outside the suite.
SHARED = Path(os.environ.get("DIFFUSION_HW_TEST_WORK") or tempfile.mkdtemp(prefix="grader-tests-"))
if "DIFFUSION_HW_TEST_WORK" not in os.environ:
    atexit.register(shutil.rmtree, SHARED, ignore_errors=True)
# What one process builds (variant folders, its own outputs) stays its own.
WORK = SHARED / f"proc-{os.getpid()}"
WORK.mkdir(parents=True, exist_ok=True)
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
        return all(tests[k]["score"] == 0 and NONE_FOUND in tests[k]["output"] for k in FIGURE_TESTS)

    @property
    def report_md(self) -> str:
        return (self.out / "report.md").read_text()

    @property
    def report_html(self) -> str:
        return (self.out / "report.html").read_text()


def validate(results: dict) -> None:
    jsonschema.validate(results, SCHEMA)


def run_cli(submission: Path | str, name: str | Path, *args: str, timeout: float = 240) -> Graded:
    """python -m grader SUBMISSION --out <tmp>/<name> ARGS (or --out NAME, a path), from the repository root."""
    out = name if isinstance(name, Path) else WORK / name
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


def run_main(submission: Path | str, out: Path, *args: str) -> Graded:
    """grader.__main__.main([SUBMISSION, --out, OUT, *ARGS]) here, from the repository root, with its
    printed output and exit status captured as the command's would be."""
    from grader.__main__ import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main([str(submission), "--out", str(out), *args])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # a crash of the grader: what the command would print, exit status 1
            traceback.print_exc()
            code = 1
    results = {}
    if (out / "results.json").exists():
        results = json.loads((out / "results.json").read_text())
        validate(results)
    return Graded(code, stdout.getvalue(), stderr.getvalue(), out, results)


def _identity(submission: str) -> str:
    """The submission as every worker names it: below this process's WORK, its relative path."""
    path = Path(submission)
    return path.relative_to(WORK).as_posix() if path.is_relative_to(WORK) else submission


def _shared(submission: str, args: tuple[str, ...], runner) -> Graded:
    """Grade once per session (the expensive part of these tests) and share the result: the first
    worker to ask grades, a worker asking meanwhile waits for it, later ones read what it wrote."""
    ident = " ".join([_identity(submission), *args, runner.__name__])
    name = "-".join([Path(submission).name, *[a.strip("-") for a in args]]).replace("/", "_")[:80]
    out = SHARED / "graded" / f"{name}-{hashlib.sha256(ident.encode()).hexdigest()[:8]}"
    done = out.parent / f"{out.name}.done.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f"{out.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            saved = json.loads(done.read_text())
            results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
            return Graded(saved["returncode"], saved["stdout"], saved["stderr"], out, results)
        g = runner(submission, out, *args)
        done.write_text(json.dumps({"returncode": g.returncode, "stdout": g.stdout, "stderr": g.stderr}))
        return g


@functools.cache
def graded(submission: str, *args: str) -> Graded:
    """The grade of `submission` with the command's ARGS, by the command's entry point in this process."""
    return _shared(submission, args, run_main)


@functools.cache
def graded_by_command(submission: str, *args: str) -> Graded:
    """The same through the real command in a subprocess: for submissions that attack the grader's
    own process (its parent's pid, signals), which must stay a process apart from the test suite's."""
    return _shared(submission, args, run_cli)


def workdir(name: str) -> Path:
    path = WORK / name
    path.mkdir(parents=True, exist_ok=True)
    return path
