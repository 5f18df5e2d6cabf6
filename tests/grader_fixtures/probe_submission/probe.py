"""Functions that misbehave on purpose, to test the sandbox (not a homework submission)."""

import ctypes
import os
import socket
import sys

import torch


def add(a, b):
    return a + b


def whoami():
    return {"uid": os.getuid(), "cwd": os.getcwd(), "env": sorted(os.environ)}


def connect():
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__


def write(path):
    try:
        with open(path, "w") as f:
            f.write("written by the sandbox")
        return "written"
    except OSError as exc:
        return type(exc).__name__


def spin():
    while True:
        pass


def exit_hard(code):
    os._exit(code)


def segfault():
    ctypes.string_at(0)


def hog(gib):
    return torch.ones(int(gib * (1 << 30) // 4)).sum()


def chatter(n):
    print("x" * n)
    return n


def module():
    return torch.nn.Linear(2, 2)


class Sneaky(torch.Tensor):
    pass


def subclass():
    return torch.zeros(2).as_subclass(Sneaky)


def leave():
    sys.exit(3)


def forge(fd):
    """Write garbage where the worker's answers go."""
    os.write(fd, (16).to_bytes(8, "big") + b"not a torch file")
    return "forged"


def read(path):
    try:
        with open(path) as f:
            return f"read {len(f.read())} characters"
    except OSError as exc:
        return type(exc).__name__


def processes():
    """The process ids this worker can see."""
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())


def daemon(name):
    """Leave a process behind (double fork, new session) that writes the time to `name` until killed."""
    import time

    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for _ in range(600):
                with open(name, "w") as f:
                    f.write(repr(time.time()))
                time.sleep(0.05)
        os._exit(0)
    return "started"


def send_raw(fd, kind):
    """Bypass the worker's own encoding: write an answer of plain data that is tiny on the wire but
    huge once its shared references are counted ("shared"), or nested 5000 levels deep ("deep")."""
    import io

    if kind == "shared":
        value = [0] * 10
        for _ in range(8):
            value = [value] * 10  # 10**9 values, a few hundred bytes of pickle
    else:
        sys.setrecursionlimit(50_000)
        value = []
        for _ in range(5000):
            value = [value]
    buf = io.BytesIO()
    torch.save({"ok": True, "value": value, "calls": [], "output": ""}, buf)
    os.write(fd, len(buf.getvalue()).to_bytes(8, "big") + buf.getvalue())
    return "sent"


def scan(sizes, limit=400_000):
    """Every regular file this worker can see, anywhere (but /proc and /sys), whose size is one of
    `sizes`: {path: sha256}. Also how many files were looked at, and the top-level folders."""
    import hashlib

    wanted, found, seen = set(sizes), {}, 0
    for top in sorted(os.listdir("/")):
        if top in ("proc", "sys"):
            continue
        for dirpath, _dirnames, filenames in os.walk("/" + top):
            for name in filenames:
                seen += 1
                path = os.path.join(dirpath, name)
                try:
                    if os.path.islink(path) or os.path.getsize(path) not in wanted:
                        continue
                    with open(path, "rb") as f:
                        found[path] = hashlib.sha256(f.read()).hexdigest()
                except OSError:
                    continue
            if seen > limit:
                return {"found": found, "seen": seen, "top": sorted(os.listdir("/")), "complete": False}
    return {"found": found, "seen": seen, "top": sorted(os.listdir("/")), "complete": True}
