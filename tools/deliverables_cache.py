"""The reference's quick-profile deliverables, trained once and reused.

    python tools/deliverables_cache.py          # build what is missing, print the folder

The folder is build/deliverables-cache/<key>, where the key hashes everything the figures
depend on: the reference's modules (code, config, manifest), the MNIST files, and the versions
of Python, torch, torchvision and numpy. A change to any of them trains again into a new folder.

The work is split into units, one per training run (seeded on their own, so the order and
the process do not change what they write). Several processes may build at once (the test
suite's workers do): each unit has its own lock, taken in a fixed order, so every unit is
built once and a process that finds one being built waits for it or builds the next.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "deliverables-cache"
PROFILE = "quick"
# Longest first: a second process starts on the second-longest while the first trains.
UNITS = ("ddpm_class", "ddpm_time", "fm_class_nosched", "fm_time", "fm_class", "part1")


def _data_files() -> list[Path]:
    from solution.data import data_root

    raw = data_root() / "MNIST" / "raw"
    return sorted(p for p in raw.iterdir() if p.is_file()) if raw.is_dir() else []


def cache_key(profile: str = PROFILE) -> str:
    """A digest of every input of the deliverables (see the module's docstring)."""
    import numpy
    import torch
    import torchvision

    h = hashlib.sha256()
    h.update(f"{profile} {platform.python_version()} {torch.__version__} {torchvision.__version__} "
             f"{numpy.__version__}\n".encode())
    for path in sorted((ROOT / "solution").glob("*.py")) + _data_files():
        h.update(f"{path.name} {path.stat().st_size}\n".encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def folder(profile: str = PROFILE) -> Path:
    return CACHE / cache_key(profile)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _done(out: Path, unit: str) -> Path:
    return out / "units" / f"{unit}.json"


def build_unit(out: Path, unit: str, profile: str = PROFILE) -> dict[str, float]:
    """Train one unit into `out` (in this process, on the CPU) and return its timings."""
    from solution.deliverables import Deliverables

    d = Deliverables(out, profile, device="cpu", progress=False)
    start = time.time()
    if unit == "part1":
        d.part1()
        d.schedules()
    else:
        d.generative(unit)
    return {**d.timings, unit: round(time.time() - start, 1)}


def ensure(unit: str | None = None, profile: str = PROFILE) -> Path:
    """Build `unit` (or every unit not yet built) unless it is done; returns the folder.
    Blocks while another process builds a unit this call needs."""
    out = folder(profile)
    for name in [unit] if unit else UNITS:
        done = _done(out, name)
        if done.exists():
            continue
        with _locked(out / "units" / f"{name}.lock"):
            if done.exists():  # built by another process while this one waited
                continue
            timings = build_unit(out, name, profile)
            tmp = done.with_suffix(".tmp")
            tmp.write_text(json.dumps(timings, indent=1) + "\n")
            os.replace(tmp, done)
    if unit is None:
        _write_timings(out, profile)
    return out


def _write_timings(out: Path, profile: str) -> None:
    """timings.json as `make deliverables` writes it: the seconds of every run, per unit."""
    timings: dict[str, object] = {"profile": profile, "device": "cpu"}
    for name in UNITS:
        timings.update(json.loads(_done(out, name).read_text()))
    path = out / "timings.json"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(timings, indent=1) + "\n")
        os.replace(tmp, path)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(ensure())
