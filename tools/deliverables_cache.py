"""The reference's quick-profile deliverables: shipped with the project, trained again only when stale.

    python tools/deliverables_cache.py            # the folder to use (builds what is missing)
    python tools/deliverables_cache.py --ship     # train afresh and replace the shipped copy

The deliverables are a deterministic function of their inputs: the reference's modules (code,
config, manifest), the MNIST files, and the versions of Python, torch, torchvision and numpy,
trained on one CPU thread. `cache_key()` hashes those inputs. The copy shipped in
assets/quick-deliverables/ (figures/, losses/, weights/, timings.json) records the key it was made with;
while that key is the current one it is used as it is, and tests/test_quick_deliverables.py
retrains parts of it from scratch to show that a fresh run reproduces it. When the key
differs (the reference changed), the deliverables are trained into build/deliverables-cache/<key>
instead, and that test fails until the shipped copy is rebuilt with --ship (about 12 minutes on
2 cores).

The work is split into units, one per training run (seeded on their own, so the order and the
process do not change what they write). Several processes may build at once (the test suite's
workers do): each unit has its own lock, so every unit is built once.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "deliverables-cache"
SHIPPED = ROOT / "assets" / "quick-deliverables"
PROFILE = "quick"
# Longest first: a second process starts on the second-longest while the first trains.
UNITS = ("ddpm_class", "ddpm_time", "fm_class_nosched", "fm_time", "fm_class", "part1")
SHIPPED_PARTS = ("figures", "losses", "weights", "units", "timings.json")  # checkpoints/ stays behind (resume state)


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


def shipped_key() -> str | None:
    """The key the shipped copy was made with (None when there is none)."""
    path = SHIPPED / "KEY"
    return path.read_text().split()[0] if path.is_file() else None


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


@contextmanager
def one_thread() -> Iterator[None]:
    """The deliverables are made on one torch thread: the same sums in the same order wherever the
    suite runs (xdist's workers use one thread; a plain pytest run would use every core)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _done(out: Path, unit: str) -> Path:
    return out / "units" / f"{unit}.json"


def build_unit(out: Path, unit: str, profile: str = PROFILE) -> dict[str, float]:
    """Train one unit into `out` (in this process, on the CPU, one thread) and return its timings."""
    from solution.deliverables import Deliverables

    with one_thread():
        d = Deliverables(out, profile, device="cpu", progress=False)
        start = time.time()
        if unit == "part1":
            d.part1()
            d.schedules()
        else:
            d.generative(unit)
    return {**d.timings, unit: round(time.time() - start, 1)}


def ensure(unit: str | None = None, profile: str = PROFILE) -> Path:
    """The folder of the deliverables: the shipped copy while it is current, else the build cache
    with `unit` (or every unit) built. Blocks while another process builds a unit this call needs."""
    if profile == PROFILE and shipped_key() == cache_key(profile):
        return SHIPPED
    return build(unit, profile)


def build(unit: str | None = None, profile: str = PROFILE, out: Path | None = None) -> Path:
    """Build `unit` (or every unit not yet built) into `out` (default: the build cache)."""
    out = out or folder(profile)
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
    timings: dict[str, object] = {"profile": profile, "device": "cpu", "threads": 1}
    for name in UNITS:
        timings.update(json.loads(_done(out, name).read_text()))
    path = out / "timings.json"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(timings, indent=1) + "\n")
        os.replace(tmp, path)


def ship(jobs: int) -> Path:
    """Train every unit afresh (`jobs` processes, one thread each) and replace the shipped copy."""
    key = cache_key()
    out = CACHE / f"{key}-fresh-{os.getpid()}"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(Path(__file__)), "--out", str(out), "--unit"]

    def one(unit: str) -> None:
        subprocess.run([*cmd, unit], check=True, env=env, cwd=ROOT)
        print(f"built {unit}", flush=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, UNITS))
    build(None, PROFILE, out)  # every unit is done: writes timings.json
    copy_shipped(out, key)
    shutil.rmtree(out, ignore_errors=True)
    return SHIPPED


def copy_shipped(built: Path, key: str) -> None:
    """Replace the shipped copy with what `built` holds (every unit built from inputs of `key`)."""
    shutil.rmtree(SHIPPED, ignore_errors=True)
    SHIPPED.mkdir(parents=True)
    for part in SHIPPED_PARTS:
        src = built / part
        if src.is_dir():
            shutil.copytree(src, SHIPPED / part, ignore=shutil.ignore_patterns("*.lock", "*.tmp"))
        else:
            shutil.copy(src, SHIPPED / part)
    (SHIPPED / "KEY").write_text(f"{key}\n{_key_note()}")


def _key_note() -> str:
    return ("# The first line is tools/deliverables_cache.py's cache_key() of the inputs these files were\n"
            "# trained from (the reference's modules, the MNIST files, Python/torch/torchvision/numpy).\n"
            "# Rebuild with: make reference-deliverables\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ship", action="store_true", help="train afresh and replace assets/quick-deliverables")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for --ship")
    ap.add_argument("--unit", choices=UNITS, help="build only this unit")
    ap.add_argument("--out", type=Path, help="build into this folder instead of the cache")
    args = ap.parse_args(argv)
    if args.ship:
        print(ship(args.jobs))
    elif args.out or args.unit:
        print(build(args.unit, PROFILE, args.out))
    else:
        print(ensure())


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
