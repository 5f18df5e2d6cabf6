"""The limits every worker runs under (one place, so the report and the docs can cite them)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 60.0  # wall clock per request (the worker is killed after it)
    total_s: float = 900.0  # wall clock for the whole grade: tests that would start later fail
    startup_s: float = 180.0  # starting a worker: the interpreter and torch imports
    cpu_request_s: float = 240.0  # CPU seconds per request (all threads), a backstop to timeout_s
    cpu_total_s: float = 3600.0  # CPU seconds over a worker's life
    memory_mb: int = 4096  # address space above what the interpreter and torch map (CPU only)
    host_rss_mb: int = 8192  # with CUDA, the grader kills a worker whose resident memory exceeds this
    gpu_fraction: float = 0.5  # with CUDA, torch's cap on the worker's share of the GPU memory
    output_chars: int = 4000  # printed output kept per request
    fsize_mb: int = 64  # largest file the worker may write
    nofile: int = 1024
    nproc: int = 512  # processes and threads of the unprivileged user
    threads: int = 1  # torch threads in the worker: the probes are small, and one thread does not
    # stall waiting for a busy second core (0: the CPU count, up to 4)

    def with_timeout(self, seconds: float | None) -> Limits:
        return self if seconds is None else replace(self, timeout_s=seconds)

    def with_total(self, seconds: float | None) -> Limits:
        return self if seconds is None else replace(self, total_s=seconds)

    def worker_threads(self) -> int:
        return self.threads or max(1, min(4, os.cpu_count() or 1))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
