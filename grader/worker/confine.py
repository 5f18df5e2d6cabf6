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
CLONE_NEWIPC = 0x08000000
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
    """New mount, PID, IPC and network namespaces, inside a new user namespace when not root (which
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
    if libc.unshare(user | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | net) == 0:
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


def lock_mounts() -> bool:
    """Not root: a nested user and mount namespace, in which the mounts made above are locked
    (they cannot be removed to uncover what they hide) and the worker holds no capability over
    the namespaces it was confined in."""
    uid, gid = os.getuid(), os.getgid()
    if _libc().unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        return False
    _map_identity(uid, gid)
    return True


MS_BIND, MS_REMOUNT, MNT_DETACH = 4096, 32, 2
# statvfs flag -> mount flag, for the flags a bind mount must keep when it is made read-only
# (in a user namespace the kernel refuses a remount that would drop a locked one).
_KEPT_FLAGS = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: 1024, 2048: 2048, 4096: 1 << 21}
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
DEVICES = ["null", "zero", "full", "random", "urandom"]


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = (lambda v: v.encode() if v is not None else None)
    if _libc().mount(enc(source), target.encode(), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _bind(path: str, new_root: str, writable: bool) -> None:
    """`path` at the same place under `new_root`; read-only unless `writable`."""
    target = new_root + path
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(path, target, None, MS_BIND | MS_REC)
    if not writable:
        kept = sum(flag for st, flag in _KEPT_FLAGS.items() if os.statvfs(target).f_flag & st)
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | kept)


def enter_own_root(visible: list[tuple[str, bool]], scratch: str, tmp_mb: int) -> str:
    """Replace the worker's whole filesystem by an allowlist: a fresh tmpfs as `/`, and under it,
    at their usual paths, only the `visible` folders (path, writable) - the system's programs and
    libraries, the interpreter, the staged submission, the worker's home - plus a private /tmp, a
    /dev of a few devices and the /proc of the worker's PID namespace. The machine's old root is
    then detached: no other path (another checkout of the project, the grader's files, the TA's
    home, other gradings' stages) exists for the student's code. `scratch` is an empty folder to
    build the new root on. Call in the worker's own mount and PID namespaces (enter_namespaces,
    become_namespace_init). Raises OSError when a step fails: a worker that cannot be confined
    must not run student code."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    tmp = scratch + "/tmp"
    os.makedirs(tmp)
    _mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m,mode=1777")
    covered: list[str] = []
    for path, writable in sorted(visible, key=lambda pw: pw[0].count("/")):
        if not os.path.lexists(path) or any(path == c or path.startswith(c + "/") for c in covered):
            continue
        if os.path.islink(path) and path.count("/") == 1:  # /bin -> usr/bin on merged-/usr systems
            os.symlink(os.readlink(path), scratch + path)
            continue
        _bind(path, scratch, writable)
        covered.append(path)
    _own_dev(scratch)
    os.makedirs(scratch + "/proc", exist_ok=True)
    _mount("proc", scratch + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _pivot(scratch)
    return f"allowlist: {len(covered)} folders of the machine visible, the rest absent"


def _own_dev(root: str) -> None:
    """/dev with the few devices a Python process uses (and the GPU's, when there is one), a
    private /dev/shm; not the machine's /dev, whose shared memory other gradings could use."""
    dev = root + "/dev"
    os.makedirs(dev)
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID, "size=64k,mode=755")
    names = DEVICES + [n for n in os.listdir("/dev") if n.startswith("nvidia")]
    for name in names:
        if os.path.exists("/dev/" + name):
            _bind("/dev/" + name, root, writable=True)
    os.makedirs(dev + "/shm")
    _mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for name, target in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")]:
        os.symlink(target, f"{dev}/{name}")


def _pivot(new_root: str) -> None:
    import platform

    libc = _libc()
    old = new_root + "/.old-root"
    os.makedirs(old)
    number = PIVOT_ROOT.get(platform.machine())
    if number is None or libc.syscall(number, new_root.encode(), old.encode()) != 0:
        raise OSError(ctypes.get_errno(), f"pivot_root: {os.strerror(ctypes.get_errno())}")
    os.chdir("/")
    if libc.umount2(b"/.old-root", MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), f"detaching the old root: {os.strerror(ctypes.get_errno())}")
    os.rmdir("/.old-root")
    kept = sum(flag for st, flag in _KEPT_FLAGS.items() if os.statvfs("/").f_flag & st)
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | kept)


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
