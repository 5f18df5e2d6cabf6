"""Benchmark of whole-class grading (python -m grader.batch), written to docs/benchmarks.md under
"## Class grading: cpu" (only that section is replaced).

    python tools/bench_batch.py [--count 50] [--jobs CORES] [--tests all] [--keep DIR]

Builds `count` submissions in a temporary folder, a mix of what a class hands in: the reference
(as a folder, a zip and the solution notebook), the skeleton (folder and zip) and realistic bugs
(tests/grader_fixtures/mutants.py, half of them zipped); none has figures, so the figure tests
fail at once with their one line, as for a class that hands in code only. Then grades them all
with `--jobs` workers and reports submissions per minute.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.grader_fixtures.mutants import MUTANTS  # noqa: E402
from tools.bench import DOC, _cpu, write_section  # noqa: E402


def _zip(folder: Path) -> Path:
    archive = Path(shutil.make_archive(str(folder), "zip", folder.parent, folder.name))
    shutil.rmtree(folder)
    return archive


def build_class(dest: Path, count: int) -> dict[str, str]:
    """`count` submissions in `dest`; returns id -> kind (reference, skeleton, mutant)."""
    kinds: dict[str, str] = {}
    work = dest.parent / "variants"
    mutants = iter(MUTANTS * (count // len(MUTANTS) + 1))
    for i in range(count):
        name = f"s{i:03d}"
        slot = i % 10  # per ten: 3 references, 2 skeletons, 5 mutants
        if slot in (0, 1, 2):
            kinds[name] = "reference"
            if slot == 2:
                shutil.copy(ROOT / "notebooks" / "solution.ipynb", dest / f"{name}.ipynb")
                continue
            shutil.copytree(ROOT / "solution", dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif slot in (3, 4):
            kinds[name] = "skeleton"
            shutil.copytree(ROOT / "skeleton", dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            kinds[name] = "mutant"
            built = next(mutants).variant().build(work)
            shutil.copytree(built, dest / name)
        if slot in (1, 4, 6, 8):
            _zip(dest / name)
    return kinds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--tests", default="all")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--keep", type=Path, default=None, help="grade into this folder and keep it (default: a temp one)")
    ap.add_argument("--doc", type=Path, default=DOC)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        kinds = build_class(subs, args.count)
        out = args.keep or Path(tmp) / "out"
        cmd = [sys.executable, "-m", "grader.batch", str(subs), "--out", str(out), "--jobs", str(args.jobs),
               "--tests", args.tests, "--device", args.device, "--force"]
        loads: list[float] = []  # the 1-minute load every 10 s: before and after alone miss other jobs mid-run
        done = threading.Event()

        def sample() -> None:
            while not done.wait(10):
                loads.append(os.getloadavg()[0])

        threading.Thread(target=sample, daemon=True).start()
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True)
        wall = time.perf_counter() - start
        done.set()
        with open(out / "grades.csv") as f:
            rows = {r["submission"]: r for r in csv.DictReader(f)}
    per_kind: dict[str, list[float]] = {}
    for sid, kind in kinds.items():
        per_kind.setdefault(kind, []).append(float(rows[sid]["score"]))
    errors = sum(r["status"] == "error" for r in rows.values())
    scores = "; ".join(f"{kind} {len(v)} (scores {min(v):g}–{max(v):g})" for kind, v in per_kind.items())
    rate = len(rows) / wall * 60
    import torch

    section = f"""## Class grading: cpu

Measured by `python tools/bench_batch.py --count {args.count} --jobs {args.jobs}` on
{datetime.date.today().isoformat()}: {_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()},
torch {torch.__version__}. Command graded: `python -m grader.batch SUBMISSIONS --out OUT --jobs {args.jobs}
--tests {args.tests} --device {args.device}` (what `make grade-all` runs), each submission in its own
`python -m grader` subprocess, every test (code, training smoke tests; no figures were handed in,
so each figure test fails at once with its one line).

**{len(rows)} submissions in {wall:.0f} s: {rate:.1f} submissions per minute** ({wall / len(rows):.1f} s
each on average, {args.jobs} at a time). The class: {scores}; {errors} error rows. Load
average during the run (every 10 s): mean {sum(loads) / max(len(loads), 1):.1f}, peak {max(loads, default=0):.1f}
(the batch alone keeps it near {args.jobs}; well above, other jobs were sharing the machine and the
rate is a lower bound).
"""
    write_section(section, args.doc)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
