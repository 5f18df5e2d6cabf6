"""The start of a grading run: read the submission, stage it, spawn the sandboxed worker.

This module imports neither torch nor pytest, so that the command line can spawn the worker
first and let its interpreter and torch start while the grader imports its own.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .sandbox.backends import Backend, InProcessBackend, SandboxBackend
from .sandbox.limits import Limits
from .sandbox.stage import Stage, unprivileged_ids
from .submission import Submission, load_submission


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


def launch(
    submission: str | Path,
    device: str = "auto",
    limits: Limits | None = None,
    sandbox: bool = True,
    isolate_network: bool = True,
) -> Launch:
    """Raises FileNotFoundError for a path that does not exist, GraderError for a bad device."""
    started = time.monotonic()
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise GraderError(f"unknown device {device!r}: use auto, cpu or cuda")
    limits = limits or Limits()
    sub = load_submission(Path(submission))
    drop_to = unprivileged_ids() if os.geteuid() == 0 else None
    stage = Stage.create(sub.files, sub.layout, drop_to)
    backend: Backend
    if not sandbox:
        backend = InProcessBackend(stage, device)
    else:  # a rejected submission never needs a worker
        backend = SandboxBackend(stage, limits, device, sub.imports, drop_to, isolate_network, eager=not sub.rejected)
    return Launch(sub, stage, backend, limits, sandbox, started)
