"""What the sandbox guarantees: the student's code runs in a separate, confined process (an
unprivileged user without network when the grader is root), with a scrubbed environment and
limits on time, memory and output; a worker that hangs or dies is replaced, and only plain
data comes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from grader.checks.expect import Mismatch, describe, expect_close
from grader.sandbox import stage as stage_module
from grader.sandbox.backends import SandboxBackend
from grader.sandbox.client import visible_folders
from grader.sandbox.limits import Limits
from grader.sandbox.stage import Stage, grading_identity
from grader.sandbox.student import Student, StudentError
from grader.submission.imports import imported_modules

PROBE = Path(__file__).parent / "grader_fixtures" / "probe_submission"
ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = os.geteuid() == 0
LIMITS = Limits(timeout_s=3.0, memory_mb=1024, output_chars=500)


@pytest.fixture(scope="module")
def student() -> Iterator[Student]:
    os.environ["GRADER_TEST_SECRET"] = "must not reach the worker"
    files = {p.name: p.read_bytes() for p in PROBE.glob("*.py")}
    drop_to = grading_identity() if IS_ROOT else None
    stage = Stage.create(files, "modules", drop_to)
    backend = SandboxBackend(stage, LIMITS, "cpu", imported_modules([f.decode() for f in files.values()], {"probe"}),
                             drop_to)
    yield Student(backend, LIMITS)
    backend.close()
    stage.remove()
    del os.environ["GRADER_TEST_SECRET"]


def test_answers_come_back_as_data(student: Student) -> None:
    assert student.fn("probe.add")(torch.ones(2), torch.ones(2)).value.tolist() == [2.0, 2.0]
    assert student.fn("probe.module")().value == "<object of type Linear>"
    value = student.fn("probe.subclass")().value
    assert type(value) is torch.Tensor  # a Tensor subclass is stripped to a plain tensor


def test_environment_is_scrubbed(student: Student) -> None:
    info = student.fn("probe.whoami")().value
    assert "GRADER_TEST_SECRET" not in info["env"]
    assert set(info["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "MPLBACKEND", "MPLCONFIGDIR",
                                "OMP_NUM_THREADS", "LD_LIBRARY_PATH"}
    assert info["cwd"].endswith("/home")  # a temporary working directory


@pytest.mark.skipif(not IS_ROOT, reason="the drop to an unprivileged user and the network namespace need root")
def test_root_drops_to_an_unprivileged_user_without_network(student: Student) -> None:
    assert student.fn("probe.whoami")().value["uid"] == grading_identity()[0]
    assert student.backend.hello["network"].startswith("isolated")
    assert student.fn("probe.connect")().value in ("OSError", "PermissionError")  # unreachable network
    assert student.fn("probe.write")(str(ROOT / "grader" / "written.txt")).value == "FileNotFoundError"
    assert student.fn("probe.write")("/usr/written.txt").value in ("PermissionError", "OSError")  # read-only
    assert not (ROOT / "grader" / "written.txt").exists()


def test_a_hang_times_out_and_the_next_call_gets_a_fresh_worker(student: Student) -> None:
    generation = student.backend.generation
    start = time.monotonic()
    with pytest.raises(StudentError, match="did not finish within 3 s") as info:
        student.fn("probe.spin")()
    assert info.value.kind == "timeout" and time.monotonic() - start < 10
    assert student.fn("probe.add")(1, 2).value == 3
    assert student.backend.generation == generation + 1


def test_a_module_that_hangs_at_import_costs_one_timeout(student: Student) -> None:
    with pytest.raises(StudentError, match="did not finish"):
        student.fn("hang.anything")()
    start = time.monotonic()
    with pytest.raises(StudentError, match="did not finish"):
        student.fn("hang.something_else")()  # the failed import is remembered, not retried
    assert time.monotonic() - start < 1


@pytest.mark.parametrize("call,expected", [
    (("probe.exit_hard", 7), "exited with status 7"),
    (("probe.segfault",), "SIGSEGV"),
])
def test_a_crash_is_reported_and_survived(student: Student, call: tuple, expected: str) -> None:
    with pytest.raises(StudentError, match=expected) as info:
        student.fn(call[0])(*call[1:])
    assert info.value.kind == "crash"
    assert student.fn("probe.add")(2, 2).value == 4


def test_sys_exit_is_an_error_not_an_exit(student: Student) -> None:
    generation = student.backend.generation
    with pytest.raises(StudentError, match=r"sys.exit\(3\) was called"):
        student.fn("probe.leave")()
    assert student.backend.generation == generation  # the same worker goes on


def test_memory_is_limited(student: Student) -> None:
    with pytest.raises(StudentError) as info:
        student.fn("probe.hog")(4)  # 4 GiB against a 1 GiB budget
    assert info.value.kind in ("memory", "crash")
    assert student.fn("probe.add")(1, 1).value == 2


def test_output_is_captured_and_truncated(student: Student) -> None:
    out = student.fn("probe.chatter")(10_000)
    assert out.value == 10_000
    assert out.output.startswith("x" * 100) and len(out.output) < 700
    assert "more characters of output dropped" in out.output


def test_a_forged_answer_is_refused(student: Student) -> None:
    student.fn("probe.add")(0, 0)  # a live worker, to read its answer descriptor from
    answer_fd = json.loads(student.backend.worker.proc.args[-1])["fds"][1]
    with pytest.raises(StudentError, match="could not be read"):
        student.fn("probe.forge")(answer_fd)
    assert student.fn("probe.add")(1, 1).value == 2  # a fresh worker


def test_missing_names_are_reported_by_name(student: Student) -> None:
    with pytest.raises(StudentError, match="probe.py does not define `nothing_here`"):
        student.fn("probe.nothing_here")()
    with pytest.raises(StudentError, match="the submission has no absent.py"):
        student.fn("absent.f")()


def test_stage_folders_of_a_killed_grader_are_removed_at_the_next_start() -> None:
    """A stage names the grader process that made it (pid and start time); the next grader removes
    the ones whose process is gone, and leaves a live grader's alone."""
    live = Stage.create({"unet.py": b""}, "modules", None)
    dead = Stage.create({"unet.py": b""}, "modules", None)
    gone = subprocess.Popen(["true"])
    gone.wait()
    (dead.root / stage_module.OWNER).write_text(f"{gone.pid} 1")  # a process that has exited
    try:
        removed = stage_module.clean_stale()
        assert dead.root in removed and not dead.root.exists()
        assert live.root.exists() and live.root not in removed
    finally:
        live.remove()
        dead.remove()


def test_the_grader_s_files_are_hidden_as_any_user(student: Student) -> None:
    """As root and as an ordinary user (through a user namespace) alike, the worker's root holds an
    allowlist of the machine's folders: the checkout beyond its virtual environment does not exist."""
    for path in (ROOT / "grader" / "checks" / "reference.py", ROOT / "solution" / "diffusion.py"):
        assert student.fn("probe.read")(str(path)).value == "FileNotFoundError", path
    assert student.backend.hello["files"].startswith("allowlist")


SECRET_FOLDERS = ["solution", "grader", "tests", "assets", "notebooks", "skeleton", "student", "docs", "tools"]


def _project_files() -> dict[str, str]:
    """sha256 -> path of every file of the project a student must not read (of 64 bytes or more,
    so that no empty `__init__.py` matches a file of the system), except what the worker is given:
    its own code (grader/worker) and the submission being graded (here the probe)."""
    import hashlib

    given = [ROOT / "grader" / "worker", PROBE]
    files = {}
    for folder in SECRET_FOLDERS:
        for path in (ROOT / folder).rglob("*"):
            if (path.is_file() and not path.is_symlink() and path.stat().st_size >= 64
                    and not any(g == path or g in path.parents for g in given) and "__pycache__" not in path.parts):
                files[hashlib.sha256(path.read_bytes()).hexdigest()] = str(path.relative_to(ROOT))
    return files


def test_no_file_of_the_project_is_visible_anywhere(student: Student) -> None:
    """The whole filesystem the worker can see, searched for any file of solution/, grader/, tests/,
    assets/, notebooks/ (and the rest of the checkout), wherever it lies: there is none. This holds
    for other checkouts of the project on the machine and copies in caches too, since the search
    compares contents, not paths."""
    import hashlib

    secret = _project_files()
    control = ROOT / "grader" / "worker" / "confine.py"  # given to the worker: the search must find it
    sizes = sorted({(ROOT / p).stat().st_size for p in secret.values()} | {control.stat().st_size})
    scan = student.fn("probe.scan", timeout=120)(sizes).value
    assert scan["complete"] and scan["seen"] > 1000, scan["seen"]  # the search saw the system's files
    assert hashlib.sha256(control.read_bytes()).hexdigest() in scan["found"].values()
    leaked = {path: secret[digest] for path, digest in scan["found"].items() if digest in secret}
    assert not leaked, leaked
    # Nothing at the top but the allowlist's own folders (a home only on the way to the interpreter).
    allowed = {path.split("/")[1] for path, _ in visible_folders(student.backend.stage)} | {"dev", "proc", "tmp"}
    assert set(scan["top"]) <= allowed, set(scan["top"]) - allowed
    assert "home" not in scan["top"] or "home" in {Path(sys.base_prefix).parts[1], Path(sys.prefix).parts[1]}


def test_the_worker_sees_another_checkout_of_the_project_nowhere(student: Student, tmp_path: Path) -> None:
    """A copy of the reference elsewhere on the machine (another checkout, a TA's download) is
    outside the allowlist whatever its permissions."""
    copy = tmp_path / "other-checkout" / "solution"
    copy.mkdir(parents=True)
    (copy / "diffusion.py").write_bytes((ROOT / "solution" / "diffusion.py").read_bytes())
    os.chmod(tmp_path, 0o755)
    for p in (copy.parent, copy, copy / "diffusion.py"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    assert student.fn("probe.read")(str(copy / "diffusion.py")).value == "FileNotFoundError"


def test_the_worker_sees_no_other_process(student: Student) -> None:
    """Its own PID namespace and /proc: no /proc/<pid>/root or cwd of the grader or anyone else."""
    assert len(student.fn("probe.processes")().value) <= 3  # the namespace's init, the worker, a child
    assert student.backend.hello["processes"].startswith("own PID namespace")


def test_nothing_a_worker_starts_outlives_it(student: Student) -> None:
    heartbeat = student.backend.stage.home / "heartbeat"
    assert student.fn("probe.daemon")("heartbeat").value == "started"
    deadline = time.monotonic() + 10
    while not heartbeat.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert heartbeat.exists(), "the daemon never ran"
    student.backend.close()  # the next test gets a fresh worker
    time.sleep(0.3)
    last = heartbeat.read_text()
    time.sleep(0.5)
    assert heartbeat.read_text() == last, "a process of the closed worker is still running"


@pytest.mark.parametrize("kind", ["shared", "deep"])
def test_an_answer_too_large_once_expanded_is_refused(student: Student, kind: str) -> None:
    """A few bytes of pickle can stand for 10**9 values or 5000 levels of nesting: the grader counts
    before it looks, stops that worker, and the next test gets a fresh one."""
    student.fn("probe.add")(0, 0)
    answer_fd = json.loads(student.backend.worker.proc.args[-1])["fds"][1]
    with pytest.raises(StudentError, match="sent an answer that is (larger than|nested more than)"):
        student.fn("probe.send_raw")(answer_fd, kind)
    assert student.fn("probe.add")(1, 1).value == 2


def test_values_are_described_briefly_whatever_they_are() -> None:
    shared = [0] * 10
    for _ in range(8):
        shared = [shared] * 10
    for value in (shared, "x" * 10**7, 10**5000, {"k": [[[[1]]]]}):
        assert len(describe(value)) <= 203


def test_a_mismatch_shows_the_entries_that_differ() -> None:
    """Where the first entries of the expected and the received tensors read the same, the message shows
    the entries around the largest difference, so the two previews never look identical."""
    expected = torch.zeros(2, 50)
    got = expected.clone()
    got[1, 7] = 0.5
    with pytest.raises(Mismatch) as caught:
        expect_close(got, expected, "f(x)")
    lines = str(caught.value).splitlines()
    assert "[..., 0, 0.5, 0, 0, ...] (from flat entry 56)" in lines[2] and "0.5" not in lines[1]
    assert "largest difference 0.5 at index (1, 7)" in lines[3]
    with pytest.raises(Mismatch) as caught:
        expect_close(expected + 1, expected, "f(x)")
    assert "[1, 1, 1, 1, ...]" in str(caught.value) and "from flat entry" not in str(caught.value)
