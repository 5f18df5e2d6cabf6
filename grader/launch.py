"""The start of a grading run: read the submission, stage it, spawn the sandboxed worker.

This module imports neither torch nor pytest, so that the command line can spawn the worker
first and let its interpreter and torch start while the grader imports its own.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .dialects import Choice, DialectError, choose
from .sandbox.backends import Backend, InProcessBackend, SandboxBackend
from .sandbox.limits import Limits
from .sandbox.stage import Stage, clean_stale, grading_identity
from .submission import Submission, load_submission
from .submission.deliverables import Deliverables, Rejected, load_deliverables, none_found

AUDIENCES = ("ta", "student")


class GraderError(RuntimeError):
    """The grader itself could not run (not a property of the submission)."""


@dataclass
class Launch:
    submission: Submission
    stage: Stage
    backend: Backend
    limits: Limits
    sandbox: bool
    started: float = field(default_factory=time.monotonic)
    deliverables: Deliverables | None = None  # the figures to judge: --figures, else the submission's
    no_figures: str = field(default_factory=none_found)  # why there are none
    audience: str = "ta"  # who reads the messages: the TA grading, or the student (Gradescope)
    dialect: Choice | None = None  # whose API the submission is written to, and why (None: the contract's)


@functools.cache
def can_isolate() -> bool:
    """Whether the worker can be confined here: root, or an ordinary user who may create user
    namespaces (the worker's own mounts, processes and network come from them)."""
    if os.geteuid() == 0:
        return True
    probe = "import ctypes, sys; sys.exit(ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0)"
    return subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True).returncode == 0


def parse_map(items: list[str]) -> dict[str, str]:
    """--map THEIRS=OURS (repeated or comma-separated) as {our contract name: their name}."""
    aliases: dict[str, str] = {}
    for item in (part.strip() for entry in items for part in entry.split(",") if part.strip()):
        theirs, eq, ours = item.partition("=")
        if not eq or not theirs.strip().isidentifier() or not ours.strip().isidentifier():
            raise GraderError(f"--map {item}: give THEIR_NAME=CONTRACT_NAME, e.g. "
                              "--map TimeAndClassConditionalUNet=ClassConditionalUNet")
        aliases[ours.strip()] = theirs.strip()
    return aliases


def check_output_folder(out: Path) -> None:
    """The grader's outputs are never written through a symbolic link (see report.write_reports)."""
    if out.is_symlink():
        raise GraderError(f"--out {out} is a symbolic link: give a real folder")


NO_ISOLATION = ("student code cannot be isolated here (not root, and this kernel refuses user namespaces): "
                "grade as root, allow unprivileged user namespaces, or pass --trusted if you trust this code")


def launch(
    submission: str | Path,
    device: str = "auto",
    limits: Limits | None = None,
    sandbox: bool = True,
    isolate_network: bool = True,
    figures: str | Path | None = None,
    trusted: bool = False,
    audience: str = "ta",
    dialect: str | None = None,
    aliases: dict[str, str] | None = None,
) -> Launch:
    """Raises FileNotFoundError for a path that does not exist (the submission, or `figures`: a
    folder holding figures/, or a zip of one), GraderError for a bad device or a bad figures zip,
    or when the worker cannot be isolated on this machine and the code is not `trusted`. `dialect`: a
    course dialect's name (grader/dialects/), or None / "auto" to detect it from the submission.
    `aliases`: the TA's --map, contract name -> the name the submission gives it."""
    started = time.monotonic()
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise GraderError(f"unknown device {device!r}: use auto, cpu or cuda")
    if sandbox and not trusted and not can_isolate():
        raise GraderError(NO_ISOLATION)
    limits = limits or Limits()
    clean_stale()  # what a grader killed mid-run left in the temporary folder
    if audience not in AUDIENCES:
        raise GraderError(f"unknown audience {audience!r}: use {' or '.join(AUDIENCES)}")
    sub = load_submission(Path(submission))
    try:
        choice = choose(sub.files, dialect)
    except DialectError as exc:
        raise GraderError(str(exc)) from None
    deliverables, no_figures = _deliverables(sub, figures, audience)
    drop_to = grading_identity() if os.geteuid() == 0 else None
    stage = Stage.create(sub.files, sub.layout, drop_to, choice.dialect.adapter, aliases)
    sub.notes += [f"--map: the submission's {theirs} stands for {ours}" for ours, theirs in (aliases or {}).items()]
    backend: Backend
    if not sandbox:
        backend = InProcessBackend(stage, device)
    else:  # a rejected submission never needs a worker
        backend = SandboxBackend(stage, limits, device, sub.imports, drop_to, isolate_network, eager=not sub.rejected)
    return Launch(sub, stage, backend, limits, sandbox, started, deliverables, no_figures, audience, choice)


def _deliverables(sub: Submission, figures: str | Path | None, audience: str) -> tuple[Deliverables | None, str]:
    if figures is not None:
        try:
            return load_deliverables(Path(figures)), none_found(audience)
        except Rejected as exc:
            raise GraderError(f"--figures {figures}: {exc}") from None
    if sub.deliverables is None and sub.rejected:
        return None, f"not graded: {sub.rejected}"
    return sub.deliverables, none_found(audience)
