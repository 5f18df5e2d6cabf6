"""Confining the worker process before it imports student code.

Order matters (see boot.py): limits and namespaces first, while the process still has the
rights to set them; then imports of trusted code; then the drop to an unprivileged user.
Each step reports what it achieved instead of failing: a machine that cannot isolate the
network still grades, and the report says so.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from typing import Any

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 0x4000, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def set_basic_limits(fsize_mb: int, nofile: int) -> None:
    """No core dumps, bounded files; EFBIG instead of a signal when a file grows too large."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_mb << 20, fsize_mb << 20))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = min(nofile, hard) if hard != resource.RLIM_INFINITY else nofile
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, limit), limit))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # setuid binaries cannot regain privileges


def set_parent_death_signal() -> None:
    """Die with the grader (must come after a change of user, which clears it)."""
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def enter_namespaces(network: bool = True) -> dict[str, str]:
    """New mount, PID and network namespaces, inside a new user namespace when not root (which
    unprivileged users may create on most kernels). The caller is then in the new mount and
    network namespaces at once; the PID namespace takes effect for the next child (see
    `become_namespace_init`). Falls back to a network namespace alone, then to none, and says so.
    Returns {"network": ..., "pid": "yes"/"no", "mounts": "yes"/"no"} for the report."""
    libc = _libc()
    root = os.geteuid() == 0
    user = 0 if root else CLONE_NEWUSER
    uid, gid = os.getuid(), os.getgid()
    net = CLONE_NEWNET if network else 0
    isolated = "isolated (new network namespace)" if network else "not isolated (disabled)"
    if libc.unshare(user | CLONE_NEWNS | CLONE_NEWPID | net) == 0:
        if not root:
            _map_identity(uid, gid)
        return {"network": isolated, "pid": "yes", "mounts": "yes"}
    why = os.strerror(ctypes.get_errno())
    if network and libc.unshare(user | CLONE_NEWNET) == 0:
        if not root:
            _map_identity(uid, gid)
        return {"network": isolated, "pid": f"no ({why})", "mounts": f"no ({why})"}
    return {"network": f"not isolated (unshare failed: {os.strerror(ctypes.get_errno())})", "pid": f"no ({why})",
            "mounts": f"no ({why})"}


def _map_identity(uid: int, gid: int) -> None:
    """In a new user namespace: the same uid and gid inside as outside (no other identity to take)."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def become_namespace_init(keep: tuple[int, ...]) -> None:
    """Fork twice: an init process in the new PID namespace and, under it, the worker, which is
    the only one to return from this call. The two others run no student code: each waits for its
    child and passes its exit status (or the signal that ended it) up, so the grader sees the
    worker's own. When the init ends (the worker ended, or the grader killed the process group), the
    kernel kills every process left in the namespace: nothing a submission starts, `setsid` and
    double forks included, outlives its worker. `keep`: descriptors only the worker holds."""
    status_r, status_w = os.pipe()
    init = os.fork()
    if init:
        _close(keep + (status_w,))
        _pass_up(init, status_r)
    set_parent_death_signal()  # the init dies with the process the grader started
    worker = os.fork()
    if worker:
        _close(keep)
        while True:  # as init, it also reaps the orphans of the namespace
            pid, status = os.wait()
            if pid == worker:
                break
        os.write(status_w, status.to_bytes(4, "little"))
        os._exit(0)
    set_parent_death_signal()
    _close((status_r, status_w))


def _close(fds: tuple[int, ...]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _pass_up(child: int, status_r: int) -> None:
    """Wait for the init and end as the worker ended (status read from the init; the init's own
    status if it never wrote one, e.g. when the grader killed it)."""
    _, status = os.waitpid(child, 0)
    data = os.read(status_r, 4)
    if len(data) == 4:
        status = int.from_bytes(data, "little")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):  # SIGKILL and SIGSTOP have no handler to reset
            pass
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def mount_own_proc() -> bool:
    """A /proc of the worker's PID namespace: no other process of the machine is listed, so none
    can be reached through /proc/<pid>/root, cwd or fd."""
    libc = _libc()
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    return libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) == 0


def lock_mounts() -> bool:
    """Not root: a nested user and mount namespace, in which the mounts made above are locked
    (they cannot be removed to uncover what they hide) and the worker holds no capability over
    the namespaces it was confined in."""
    uid, gid = os.getuid(), os.getgid()
    if _libc().unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        return False
    _map_identity(uid, gid)
    return True


def hide_folders(paths: list[str]) -> str:
    """In the worker's own mount namespace (enter_namespaces), each folder is covered by an empty,
    read-only tmpfs that no one may enter, so the student's code cannot read the grader's
    source, hidden tests, solution or golden values (nor the grader's output folder).
    The interpreter's own folders are never in `paths`. Returns how it went, for the report."""
    libc = _libc()
    flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
    hidden = [p for p in paths
              if os.path.isdir(p) and libc.mount(b"tmpfs", p.encode(), b"tmpfs", flags, b"size=4k,mode=000") == 0]
    missed = len([p for p in paths if os.path.isdir(p)]) - len(hidden)
    return f"the grader's folders hidden ({len(hidden)} covered" + (f", {missed} not)" if missed else ")")


def vm_size() -> int:
    """The process's current virtual memory size in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def limit_address_space(budget_mb: int) -> int:
    """RLIMIT_AS = what the interpreter and torch already map + the budget. Returns the limit.
    Not used with CUDA: the driver reserves huge virtual ranges (see docs/grader.md)."""
    limit = vm_size() + (budget_mb << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return limit


def limit_processes(nproc: int) -> None:
    """Counted per user: only meaningful once running as the unprivileged user."""
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise RuntimeError("could not drop root privileges")


def set_cpu_budget(seconds: float, total: float) -> None:
    """Soft CPU limit = CPU used so far + this request's budget (SIGXCPU ends the worker);
    the hard limit, fixed at start, bounds the worker's whole life."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    soft = int(min(total, spent + seconds)) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft, int(total) + 1))


def start_cpu_limit(total: float) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (int(total) + 1, int(total) + 1))


def _reachable_by_others(path: str) -> bool:
    """Could a user with no rights of its own list this folder (o+x on every parent, o+rx here)?"""
    try:
        parts = os.path.realpath(path).split("/")
        for i in range(2, len(parts)):
            if not os.stat("/".join(parts[:i]) or "/").st_mode & 0o001:
                return False
        return os.stat(path).st_mode & 0o005 == 0o005
    except OSError:
        return True  # a missing entry (python311.zip) needs nothing


def open_import_routes(paths: list[str]) -> dict[str, str]:
    """Before the drop: an open descriptor for each import folder the unprivileged user could not
    reach (an interpreter under a private home, like /root/.pyenv). Through /proc/self/fd/N the
    folder stays readable after the drop: a descriptor needs no permission on the parents.
    Returns {folder: /proc/self/fd/N}."""
    routes = {}
    for path in paths:
        if path and os.path.isdir(path) and not _reachable_by_others(path):
            routes[path] = f"/proc/self/fd/{os.open(path, os.O_RDONLY | os.O_DIRECTORY)}"
    return routes


def reroute_imports(routes: dict[str, str]) -> None:
    """After the drop: import through the descriptors, for sys.path and every loaded package."""
    import importlib
    import sys

    def moved(path: str) -> str:
        for old, new in sorted(routes.items(), key=lambda kv: -len(kv[0])):
            if path == old or path.startswith(old + "/"):
                return new + path[len(old) :]
        return path

    sys.path[:] = [moved(p) for p in sys.path]
    for module in list(sys.modules.values()):
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            search[:] = [moved(p) for p in search]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
