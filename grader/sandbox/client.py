"""One worker process, seen from the grader: start it, send a request, wait for the answer
under a deadline, and kill it when it hangs, dies or grows too large.

The grader never unpickles anything executable: answers are read with weights_only=True.
The worker is spawned at once but greeted lazily, on the first request: its interpreter and
torch imports then overlap the grader's own start (torch is imported here only when needed).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..paths import ROOT
from .limits import Limits
from .stage import PACKAGE, Stage


class WorkerGone(Exception):
    """The worker timed out, died or misbehaved; it has been stopped."""


class WorkerTimeout(WorkerGone):
    pass


class WorkerStartError(RuntimeError):
    """The worker could not start (before any student code ran): the grader's problem."""


def _wire() -> Any:
    from ..worker import wire  # imports torch: deferred so that spawning does not wait for it

    return wire


def _env(stage: Stage, limits: Limits, device: str) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's (tokens, proxies, paths) leaks in."""
    home = str(stage.home)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": home,
        "OMP_NUM_THREADS": str(limits.worker_threads()),
    }
    keep = ["LD_LIBRARY_PATH"] + (["CUDA_VISIBLE_DEVICES"] if device != "cpu" else [])
    env.update({k: os.environ[k] for k in keep if k in os.environ})
    return env


def describe_exit(code: int | None) -> str:
    if code is None:
        return "was stopped"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = {
            "SIGKILL": " (killed: memory or CPU limit, or stopped by the grader)",
            "SIGXCPU": " (CPU time limit exceeded)",
            "SIGSEGV": " (segmentation fault)",
            "SIGABRT": " (aborted)",
        }.get(name, "")
        return f"was killed by {name}{why}"
    return f"exited with status {code}"


SYSTEM_FOLDERS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys"]


def visible_folders(stage: Stage) -> list[tuple[str, bool]]:
    """The allowlist of the worker's filesystem, (path, writable): the system's programs and
    libraries, the interpreter (a virtual environment and the Python it is made from), the
    staged worker code and submission (read-only) and the worker's home. Nothing else of the
    machine exists for it (worker/confine.py: enter_own_root): not the grader's checkout beyond
    its virtual environment, not another checkout, not the TA's home, not other gradings."""
    project = ROOT
    python = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    libs = {Path(p).resolve() for p in os.environ.get("LD_LIBRARY_PATH", "").split(":") if p.startswith("/")}
    # A library folder inside the project would bring the project in with it.
    libs = {p for p in libs if p != project and project not in p.parents}
    visible = [(p, False) for p in SYSTEM_FOLDERS]
    visible += [(str(p), False) for p in sorted(python | libs) if p != Path("/")]
    visible += [(str(stage.lib), False), (str(stage.source_dir.parent), False), (str(stage.home), True)]
    return visible


MAX_VALUES = 1_000_000  # values in an answer, counting a shared one once per reference to it
MAX_NESTING = 32  # the worker's own answers nest a few levels (worker/wire.py: MAX_DEPTH)


def unbounded(answer: Any) -> str | None:
    """Why an answer cannot be handled safely, or None. An answer is data, but data the student's
    code may have written itself: a few bytes of pickle can describe a list that holds itself 2**60
    times over (shared references), or nesting deep enough to break any recursive walk. The walk is
    iterative and stops after MAX_VALUES, so it costs little whatever it is handed."""
    too_many = f"larger than {MAX_VALUES:,} values once its shared parts are counted"
    stack, seen = [(answer, 0)], 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if depth > MAX_NESTING:
            return f"nested more than {MAX_NESTING} levels deep"
        if isinstance(value, dict):
            value = [*value.keys(), *value.values()]
        if isinstance(value, (list, tuple, set, frozenset)):
            if seen + len(stack) + len(value) > MAX_VALUES:
                return too_many
            for item in value:
                if _is_leaf(item):
                    seen += 1
                else:
                    stack.append((item, depth + 1))
    return None


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple, set, frozenset))


class WorkerProcess:
    def __init__(
        self,
        stage: Stage,
        limits: Limits,
        device: str,
        preimport: list[str],
        drop_to: tuple[int, int] | None,
        isolate_network: bool,
        number: int = 1,
    ) -> None:
        self.limits = limits
        self._limit_s = limits.timeout_s  # the running request's limit, for the timeout message
        self.device = device
        self.log_path = stage.root / f"worker-{number}.log"
        req_r, self._req_w = os.pipe()
        self._resp_r, resp_w = os.pipe()
        config = {
            "fds": [req_r, resp_w],
            "package": PACKAGE,
            "source_dir": str(stage.source_dir),
            "origin": stage.origin,
            "dialect": stage.adapter,
            "aliases": stage.aliases or {},
            "workdir": str(stage.home),
            "device": device,
            "preimport": preimport,
            "drop_to": list(drop_to) if drop_to else None,
            "isolate_network": isolate_network,
            "visible": visible_folders(stage),
            "scratch": str(stage.scratch),
            "threads": limits.worker_threads(),
            "limits": limits.as_dict(),
        }
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-B", str(stage.boot), json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(req_r, resp_w),
                env=_env(stage, limits, device),
                cwd=stage.home,
                start_new_session=True,  # its own process group: killed as a whole
            )
        os.close(req_r)
        os.close(resp_w)
        os.set_blocking(self._req_w, False)
        self._started = time.monotonic()
        self._hello: dict[str, Any] | None = None

    @property
    def hello(self) -> dict[str, Any]:
        """What the worker reports once confined (user, network, memory, device); waits for it."""
        if self._hello is None:
            answer = self._receive(self._started + self.limits.startup_s, "starting")
            if "hello" not in answer:
                self.kill()
                raise WorkerStartError(answer.get("fatal", "the worker did not greet the grader"))
            self._hello = answer["hello"]
            self.device = self._hello.get("device", self.device)
        return self._hello

    # -- requests --------------------------------------------------------------------------

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.hello  # noqa: B018 - a request goes to a worker that has started
        deadline = time.monotonic() + timeout
        self._limit_s = timeout
        self._send(req, deadline)
        return self._receive(deadline, "answering")

    def _send(self, req: dict[str, Any], deadline: float) -> None:
        wire = _wire()
        data = wire.encode(req)
        view = memoryview(wire.HEADER.pack(len(data)) + data)
        while view:
            self._wait(self._req_w, deadline, "reading its request", write=True)
            try:
                view = view[os.write(self._req_w, view) :]
            except BrokenPipeError:
                raise self._gone("reading its request") from None

    def _receive(self, deadline: float, doing: str) -> dict[str, Any]:
        wire = _wire()
        (size,) = wire.HEADER.unpack(self._read(wire.HEADER.size, deadline, doing))
        if size > wire.MAX_MESSAGE:
            self.kill()
            raise WorkerGone(f"the worker sent an answer of {size >> 20} MiB, over the limit")
        try:
            answer = wire.decode(self._read(size, deadline, doing))
        except WorkerGone:
            raise
        except Exception as exc:  # not a torch.save payload of plain data: the pipe was tampered with
            self.kill()
            raise WorkerGone(f"the worker sent an answer that could not be read ({type(exc).__name__})") from None
        if not isinstance(answer, dict):
            self.kill()
            raise WorkerGone("the worker sent something that is not an answer")
        problem = unbounded(answer)
        if problem:
            self.kill()
            raise WorkerGone(f"the worker sent an answer that is {problem}; it was stopped")
        return answer

    def _read(self, n: int, deadline: float, doing: str) -> bytes:
        chunks, got = [], 0
        while got < n:
            self._wait(self._resp_r, deadline, doing)
            chunk = os.read(self._resp_r, min(n - got, 1 << 20))
            if not chunk:
                raise self._gone(doing)
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _wait(self, fd: int, deadline: float, doing: str, write: bool = False) -> None:
        """Block until fd is ready, checking the deadline (and, with CUDA, the worker's memory)."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                if doing == "starting":
                    raise WorkerStartError(f"the worker did not start within {self.limits.startup_s:g} s")
                raise WorkerTimeout(f"did not finish within {self._timeout_text()}")
            readable, writable, _ = select.select([] if write else [fd], [fd] if write else [], [], min(left, 0.25))
            if readable or writable:
                return
            if self.device != "cpu" and self._rss_mb() > self.limits.host_rss_mb:
                self.kill()
                raise WorkerGone(f"used more than {self.limits.host_rss_mb} MiB of memory and was stopped")

    def _timeout_text(self) -> str:
        return f"{self._limit_s:.3g} s (an infinite loop, or far too slow?); the worker was stopped"

    def _rss_mb(self) -> float:
        """Resident memory of the worker's whole process tree (the process started here is only the
        outer one of the worker's namespaces, see worker/confine.py)."""
        total, todo, seen = 0, [self.proc.pid], set()
        while todo and len(seen) < 4096:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
        return total / 1024

    def _gone(self, doing: str) -> Exception:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        tail = self.log_tail()
        message = f"the worker process {describe_exit(code)} while {doing}"
        if tail:
            message += f"; its last output:\n{tail}"
        return WorkerStartError(message) if doing == "starting" else WorkerGone(message)

    def log_tail(self, chars: int = 1500) -> str:
        try:
            data = self.log_path.read_bytes()[-chars:]
        except OSError:
            return ""
        return data.decode("utf-8", "replace").strip()

    # -- life ------------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self._req_w, self._resp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._req_w = self._resp_r = -1

    def close(self) -> None:
        """Stop the worker. No polite exit: every answer is in, and an interpreter holding torch
        takes about a second to shut down; its process group is killed instead."""
        self.kill()
