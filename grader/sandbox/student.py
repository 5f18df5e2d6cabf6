"""The student's code as the catalog's tests see it: functions and classes to call, whose
answers come back as plain data (tensors, numbers) from the sandbox.

    q_sample = student.fn("diffusion.q_sample")
    out = q_sample(x0, t, sched, noise=noise)          # -> Outcome: .value, .records, .output
    loss = student.fn("diffusion.p_losses")(mock(), x0, t, sched, noise=noise)
    ddpm = student.new("diffusion.DDPM", mock(), num_ts=50)
    imgs = ddpm.sample((28, 28), seed=0, c=c)            # a method call, in one request
    info = student.module("unet.Conv", 1, 4).run([(x,)])   # -> ModuleInfo: n_params, leaves, outputs

Every failure of the student's code (an exception, a missing name, a failed import, a
timeout, a crash) raises StudentError with a message written for the student.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..worker.wire import MOCK
from .backends import Backend
from .client import WorkerGone, WorkerTimeout
from .limits import Limits


def mock(**params: Any) -> dict[str, Any]:
    """A recording mock UNet (see grader/worker/mocks.py for its formula and parameters)."""
    return {MOCK: params}


@dataclass
class Record:
    """One call the student's code made to a mock UNet."""

    x: torch.Tensor | None
    t: torch.Tensor  # float64, one value per sample, as the UNet received it
    t_shape: tuple[int, ...]
    t_dtype: str
    c: torch.Tensor | None  # the class vector the UNet saw (after any mask)
    n: int


@dataclass
class Outcome:
    value: Any
    calls: list[list[Record]] = field(default_factory=list)  # per mock, in order of the arguments
    output: str = ""
    device: str | None = None

    @property
    def records(self) -> list[Record]:
        return self.calls[0] if self.calls else []


@dataclass
class ModuleInfo:
    n_params: int
    leaves: list[tuple[str, str]]  # (qualified name, layer kind) of every leaf module
    children: list[tuple[str, int]]  # (name, parameter count) of the direct submodules
    outputs: list[Any]
    # submodules holding parameters, in the order of their first call: (name, [(parameter, shape), ...])
    called: list[tuple[str, list[tuple[str, tuple[int, ...]]]]] = field(default_factory=list)
    gelu_calls: list[int] = field(default_factory=list)  # GELUs applied per forward (nn.GELU or F.gelu)


class StudentError(Exception):
    """The student's code failed; str() is the message shown in the report."""

    def __init__(self, kind: str, message: str, output: str = "") -> None:
        self.kind, self.message, self.output = kind, message, output
        text = message
        if output.strip():
            text += "\nprinted output:\n" + output.strip()
        super().__init__(text)


def _call_text(target: str, method: str | None) -> str:
    return f"{target}(...).{method}(...)" if method else f"{target}(...)"


class Student:
    def __init__(self, backend: Backend, limits: Limits, refused: str | None = None) -> None:
        self.backend = backend
        self.limits = limits
        self.refused = refused  # why the submission cannot be graded at all (then every request fails)
        self._imported: dict[str, int] = {}  # module -> backend generation it was imported in
        self._failed: dict[str, StudentError] = {}  # modules whose import failed: not retried
        self.notes: list[str] = []  # notebook cells that failed when run
        self.deadline: float | None = None  # time.monotonic() at which the grade's total time runs out
        self.via: list[str] = []  # a dialect adapter's calls of the course's API in the current test (the report's)

    # -- the public API ----------------------------------------------------------------------

    @property
    def device(self) -> str:
        """Where the student's code runs ("cpu" or "cuda")."""
        return self.backend.device

    def fn(
        self, target: str, *, seed: int = 0, repeat: int = 1, timeout: float | None = None
    ) -> Callable[..., Outcome]:
        def call(*args: Any, **kwargs: Any) -> Outcome:
            req = {"op": "call", "target": target, "args": list(args), "kwargs": kwargs, "repeat": repeat, "seed": seed}
            return self._outcome(self.ask(req, timeout, _call_text(target, None)))

        return call

    def new(self, target: str, *args: Any, **kwargs: Any) -> Instance:
        return Instance(self, target, list(args), kwargs)

    def module(self, target: str, *args: Any, **kwargs: Any) -> ModuleSpec:
        return ModuleSpec(self, target, list(args), kwargs)

    def train(self, part: str, settings: dict[str, Any], images: torch.Tensor, labels: torch.Tensor,
              timeout: float, seed: int = 0) -> dict[str, Any]:
        """A training smoke run of one part in the worker (see grader/worker/smoke.py)."""
        req = {"op": "train", "module": "unet", "part": part, "images": images, "labels": labels,
               "seed": seed, **settings}
        return self.ask(req, timeout, f"the training smoke run of {part}")["value"]

    def evaluate(self, part: str, settings: dict[str, Any], state: Any, inputs: dict[str, torch.Tensor],
                 timeout: float, seed: int) -> dict[str, Any]:
        """The weights of a training run, loaded into a newly built UNet of the student's, answering the
        grader's inputs; then samples. (Not a fresh worker: whatever the training process kept, the
        returned weights could carry as well; what counts is that the inputs and seed are new to it.)"""
        req = {"op": "evaluate", "module": "unet", "part": part, "state": state, "seed": seed,
               "hidden": settings["hidden"], "num_ts": settings["num_ts"], "threads": settings.get("threads", 1),
               **inputs}
        return self.ask(req, timeout, f"the trained {part} UNet on held-out digits")["value"]

    def train_step(self, x: torch.Tensor, y: torch.Tensor, lr: float, grad_clip: float | None = None) -> dict[str, Any]:
        """Two calls of the student's train.train_step on the worker's linear-regression probe."""
        req = {"op": "train_step", "target": "train.train_step", "x": x, "y": y, "lr": lr, "grad_clip": grad_clip}
        return self.ask(req, None, "train.train_step(model, optimizer, loss_fn, x, y, grad_clip)")["value"]

    def missing(self, module: str, names: list[str]) -> list[str]:
        answer = self.ask({"op": "names", "module": module, "names": names}, None, f"{module} (names)")
        return list(answer["value"])

    # -- plumbing ---------------------------------------------------------------------------

    def ask(self, req: dict[str, Any], timeout: float | None, what: str) -> dict[str, Any]:
        """Send one request (importing its module first, once per worker); raise StudentError."""
        if self.refused:
            raise StudentError("rejected", f"the submission was not graded: {self.refused}")
        module = req.get("module") or req["target"].split(".")[0]
        self._ensure_imported(module)
        answer = self._ask(req, timeout, what)
        via = answer.get("via")
        if isinstance(via, list):  # the worker's word, shown only as what it says it called
            self.via += [str(v)[:300] for v in via[:8] if str(v)[:300] not in self.via][: max(0, 12 - len(self.via))]
        if not answer.get("ok"):
            raise self._error(answer, what)
        return answer

    def _ask(self, req: dict[str, Any], timeout: float | None, what: str) -> dict[str, Any]:
        """One request, within its own timeout and what is left of the grade's total time: a slow
        request cannot carry the grade past its budget (the worker is stopped when it runs out)."""
        limit = timeout or self.limits.timeout_s
        left = None if self.deadline is None else self.deadline - time.monotonic()
        if left is not None and left <= 0:
            raise StudentError("time", f"{what} was not run: {self._out_of_time()}")
        cut = left is not None and left < limit
        try:
            return self.backend.ask(req, left if cut else limit)
        except WorkerTimeout as exc:
            if cut:
                raise StudentError("time", f"{what} was stopped: {self._out_of_time()}") from None
            raise StudentError("timeout", f"{what} {exc}") from None
        except WorkerGone as exc:
            raise StudentError("crash", f"{what}: {exc}") from None

    def _ensure_imported(self, module: str) -> None:
        if module in self._failed:
            raise self._failed[module].with_traceback(None)  # a fresh traceback: re-raising would grow it
        if self._imported.get(module) == self.backend.generation:
            return
        try:
            what = f"importing {module}"
            answer = self._ask({"op": "import", "module": module}, None, what)
            if not answer.get("ok"):
                raise self._error(answer, what)
        except StudentError as exc:
            self._failed[module] = exc
            raise
        self._imported[module] = self.backend.generation
        self.notes = list(answer["value"].get("notes", [])) or self.notes

    def _error(self, answer: dict[str, Any], what: str) -> StudentError:
        err = answer.get("error", {})
        kind, message = err.get("kind", "exception"), err.get("message", "")
        if kind in ("exception", "memory"):
            text = f"{what} raised {err.get('type', 'an exception')}: {message}"
            if err.get("during"):
                text += f" (during {err['during']})"
            if err.get("traceback"):
                text += "\n" + err["traceback"]
            if kind == "memory":
                text += f"\n(the sandbox allows {self.limits.memory_mb} MiB above the interpreter)"
        else:
            text = message
            if err.get("traceback"):
                text += "\n" + err["traceback"]
        return StudentError(kind, text, answer.get("output", ""))

    def _out_of_time(self) -> str:
        return (f"the submission used up the grade's total time limit of {self.limits.total_s:g} s "
                "(its code was too slow)")

    @staticmethod
    def _outcome(answer: dict[str, Any]) -> Outcome:
        calls = [[Record(**rec) for rec in records] for records in answer.get("calls", [])]
        return Outcome(answer.get("value"), calls, answer.get("output", ""), answer.get("device"))


def _called(value: Any) -> list[tuple[str, list[tuple[str, tuple[int, ...]]]]]:
    """The worker's list of parameter-holding submodules, checked to be of the expected form (it is
    the student's process that sent it)."""
    try:
        return [(str(name), [(str(p), tuple(int(d) for d in shape)) for p, shape in own]) for name, own in value]
    except (TypeError, ValueError):
        return []


@dataclass
class Instance:
    """A student class to construct with args, then call one method on (in a single request)."""

    student: Student
    target: str
    args: list[Any]
    kwargs: dict[str, Any]

    def __getattr__(self, method: str) -> Callable[..., Outcome]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*margs: Any, **mkwargs: Any) -> Outcome:
            req = {"op": "call", "target": self.target, "args": self.args, "kwargs": self.kwargs,
                   "method": method, "margs": list(margs), "mkwargs": mkwargs, "seed": 0}
            return Student._outcome(self.student.ask(req, None, _call_text(self.target, method)))

        return call


@dataclass
class ModuleSpec:
    """A student nn.Module to build (with a fixed seed) and run on some inputs."""

    student: Student
    target: str
    args: list[Any]
    kwargs: dict[str, Any]

    def run(self, inputs: list[tuple[Any, ...]] = (), train: bool = True, seed: int = 0,
            replace: list[dict[str, torch.Tensor]] | None = None,
            load: dict[str, torch.Tensor] | None = None) -> ModuleInfo:
        """Build, then one forward per inputs tuple. `replace[i]` maps submodule names to values
        that stand in for those submodules' outputs (one row, repeated over the batch) in forward i."""
        forward = [{"args": list(a), "kwargs": {}, "replace": (replace or [{}] * len(inputs))[i]}
                   for i, a in enumerate(inputs)]
        req = {"op": "module", "target": self.target, "args": self.args, "kwargs": self.kwargs, "train": train,
               "forward": forward, "seed": seed, "load": load}
        answer = self.student.ask(req, None, f"{self.target}(...)")
        value = answer["value"]
        return ModuleInfo(
            int(value["n_params"]),
            [tuple(x) for x in value["leaves"]],
            [(str(n), int(k)) for n, k in value["children"]],
            list(value["outputs"]),
            _called(value.get("called")),
            [int(n) for n in value.get("gelu_calls", []) if isinstance(n, int)][:64],
        )
