"""One grading run, as a straight line (launch.py does the first three steps):

    submission (folder | zip | notebook)  ->  staged package  ->  sandboxed worker
    ->  catalog tests (pytest: probes in the worker, verdicts here)  ->  results  ->  reports
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from .launch import GraderError, Launch, launch
from .paths import CATALOG
from .plugin import GradingPlugin
from .report import write_reports
from .results import GradingResult, NotApplicable
from .rubric import RUBRIC_PATH, Rubric, load_rubric
from .sandbox.backends import Backend
from .sandbox.limits import Limits
from .sandbox.student import Student, StudentError
from .submission import CONTRACT_NAMES

__all__ = ["GraderError", "finish", "grade", "run_catalog"]


def run_catalog(student: Student, rubric: Rubric, selection: str, run: Launch | None = None) -> GradingPlugin:
    """Run the catalog's tests with pytest, in this process; the plugin collects the verdicts."""
    plugin = GradingPlugin(student, rubric, selection)
    if run is not None:
        plugin.deliverables, plugin.no_figures = run.deliverables, run.no_figures
        plugin.deadline, plugin.total_s = run.started + run.limits.total_s, run.limits.total_s
        student.deadline = plugin.deadline  # and within a test, each request stops when it runs out
    args = [str(CATALOG), "-c", str(CATALOG / "pytest.ini"), "--rootdir", str(CATALOG),
            "-p", "no:cacheprovider", "-p", "no:terminal"]
    code = pytest.main(args, plugins=[plugin])
    if plugin.problems:
        raise GraderError("the catalog and rubric.toml disagree: " + "; ".join(plugin.problems))
    start_error = getattr(student.backend, "start_error", None)
    if start_error is not None:
        raise GraderError(f"the sandbox could not start: {start_error}")
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise GraderError(f"pytest could not run the catalog (exit status {int(code)})")
    return plugin


def finish(run: Launch, out: str | Path, tests: str = "all", rubric_path: Path = RUBRIC_PATH,
           hidden_as: str | None = None) -> GradingResult:
    """Run the catalog against a launched submission; write results.json and the reports."""
    sub, backend = run.submission, run.backend
    dialect = run.dialect.dialect.name if run.dialect else "contract"
    try:
        rubric = load_rubric(rubric_path, dialect=dialect)
        student = Student(backend, run.limits, refused=sub.rejected)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the grader's side is small tensors too
        try:
            plugin = run_catalog(student, rubric, tests, run)
            inventory = _missing_names(student) if not sub.rejected and dialect == "contract" else []
        finally:
            torch.set_num_threads(threads)
    finally:
        backend.close()
        run.stage.remove()
    device = backend.device if backend.hello else ("cuda" if torch.cuda.is_available() else "cpu")
    result = GradingResult(
        submission=str(sub.path),
        origin=sub.origin,
        selection=tests,
        device=device,
        parts=rubric.parts,
        tests=[plugin.results[i] for i in rubric.entries if i in plugin.results],
        notes=sub.notes + inventory + student.notes,
        dropped=sub.dropped,
        sandbox=_sandbox_info(backend, run.limits, run.sandbox),
        events=list(backend.events),
        execution_time_s=time.monotonic() - run.started,
        figures=plugin.figures,
        figures_source=run.deliverables.where if run.deliverables else run.no_figures,
        audience=run.audience,
        hidden_as=hidden_as or ("visible" if run.audience == "student" else "hidden"),
        dialect=dialect,
        dialect_why=run.dialect.why if run.dialect else "",
        not_applicable=[NotApplicable(e.id, e.title, e.part, e.points) for e in rubric.not_applicable.values()],
    )
    write_reports(result, Path(out))
    return result


def grade(
    submission: str | Path,
    out: str | Path,
    tests: str = "all",
    device: str = "auto",
    limits: Limits | None = None,
    sandbox: bool = True,
    isolate_network: bool = True,
    rubric_path: Path = RUBRIC_PATH,
    figures: str | Path | None = None,
    dialect: str | None = None,
) -> GradingResult:
    """Grade a submission and write results.json, report.md and report.html into `out`.
    `figures` (a folder holding figures/, losses/ and weights/) replaces the submission's own deliverables.
    `sandbox=False` runs the student's code in this process: for measurements only."""
    run = launch(submission, device, limits, sandbox, isolate_network, figures, dialect=dialect)
    return finish(run, out, tests, rubric_path)


def _missing_names(student: Student) -> list[str]:
    """One note per contract module that lacks some of the contract's names (or fails to import)."""
    notes = []
    for module, names in CONTRACT_NAMES.items():
        try:
            missing = student.missing(module, names)
        except StudentError as exc:
            notes.append(f"{module}: {str(exc).splitlines()[0]}")
            continue
        if missing:
            notes.append(f"{module}: missing {', '.join(missing)}")
    return notes


def _sandbox_info(backend: Backend, limits: Limits, sandbox: bool) -> dict[str, str]:
    hello = backend.hello
    if not sandbox:
        return {"mode": "in-process (no sandbox: for measurements only)"}
    if not hello:
        return {"mode": "no worker was started"}
    return {
        "mode": "worker subprocess",
        "user": str(hello.get("user", "?")),
        "network": str(hello.get("network", "?")),
        "files": str(hello.get("files", "?")),
        "processes": str(hello.get("processes", "?")),
        "memory": str(hello.get("memory", "?")),
        "time": f"{limits.timeout_s:g} s per request (wall clock), {limits.cpu_request_s:g} s CPU; "
                f"{limits.total_s:g} s for the whole grade",
        "output": f"first {limits.output_chars} characters of printed output per request",
    }
