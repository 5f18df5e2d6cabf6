"""Where requests are answered: a confined worker process (always, when grading), or the
grader's own process (only to measure what the sandbox costs; never for real submissions)."""

from __future__ import annotations

import sys
from typing import Any, Protocol

from .client import WorkerGone, WorkerProcess, WorkerStartError
from .limits import Limits
from .stage import PACKAGE, Stage


class Backend(Protocol):
    generation: int  # changes whenever a fresh worker replaces the previous one
    device: str
    events: list[str]
    hello: dict[str, Any]

    def ask(self, req: dict[str, Any], timeout: float) -> dict[str, Any]: ...

    def close(self) -> None: ...


class SandboxBackend:
    """One live worker at a time; a worker that timed out or died is replaced on next use.
    The first worker is spawned at once, so that it starts while the grader sets up."""

    def __init__(
        self,
        stage: Stage,
        limits: Limits,
        device: str,
        preimport: list[str],
        drop_to: tuple[int, int] | None,
        isolate_network: bool = True,
        eager: bool = True,
    ) -> None:
        self.stage, self.limits, self.requested_device = stage, limits, device
        self.preimport, self.drop_to, self.isolate_network = preimport, drop_to, isolate_network
        self.generation = 0
        self.events: list[str] = []
        self.hello: dict[str, Any] = {}
        self.start_error: WorkerStartError | None = None
        self.worker: WorkerProcess | None = self._start() if eager else None

    def _start(self) -> WorkerProcess:
        if self.start_error is not None:  # a sandbox that cannot start once will not start later
            raise WorkerStartError(str(self.start_error))
        self.generation += 1
        return WorkerProcess(
            self.stage, self.limits, self.requested_device, self.preimport, self.drop_to, self.isolate_network,
            self.generation,
        )

    def _greeted(self, worker: WorkerProcess) -> WorkerProcess:
        try:
            self.hello = self.hello or worker.hello
        except WorkerStartError as exc:
            self.start_error = exc
            raise
        return worker

    @property
    def device(self) -> str:
        """The device the worker runs on ("auto" resolved by the worker itself)."""
        if not self.hello and self.worker is not None:
            self._greeted(self.worker)
        return str(self.hello.get("device", self.requested_device))

    def ask(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            if self.worker is None or not self.worker.alive:
                self.worker = self._start()
            return self._greeted(self.worker).request(req, timeout)
        except WorkerGone as exc:
            self.events.append(f"worker {self.generation}: {str(exc).splitlines()[0]}")
            self.worker = None
            raise

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None


class InProcessBackend:
    """The same request handler, called directly: no isolation, no limits, no timeout."""

    def __init__(self, stage: Stage, device: str) -> None:
        from ..worker.serve import Server

        for path in (str(stage.source_dir.parent), str(stage.source_dir)):
            if path not in sys.path:
                sys.path.append(path)
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]  # a previous in-process run's submission
        import torch

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.server = Server(PACKAGE, device, str(stage.source_dir), stage.origin, dialect=stage.adapter,
                             aliases=stage.aliases)
        self.device = device
        self.start_error = None
        self.generation = 1
        self.events: list[str] = []
        self.hello: dict[str, Any] = {"network": "not isolated (in-process)", "uid": None, "memory": "unlimited"}

    def ask(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        return self.server.handle(req)

    def close(self) -> None:
        pass
