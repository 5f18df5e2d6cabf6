"""Benchmarks of the grader, written to docs/benchmarks.md under "## Grader" (only that section
is replaced; the file is created when missing).

    python tools/bench.py [--runs 3] [--submission solution]

Measures, each in a fresh interpreter and alternating the two modes so both see the same load:
- the wall time of `python -m grader SUBMISSION` (the full catalog, sandboxed), end to end;
- the same catalog with the checks called in-process (grade(..., sandbox=False), which exists
  for this measurement only), to give the sandbox's overhead;
- the sum of the tests' own times in each mode (the checks alone, without interpreter starts).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Grader"
IN_PROCESS = "import sys; from grader.run import grade; grade(sys.argv[1], sys.argv[2], sandbox=False)"


def _run(cmd: list[str], out: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    return wall, json.loads((out / "results.json").read_text())


def _checks_time(results: dict) -> float:
    return sum(t["extra_data"]["duration_s"] for t in results["tests"])


def measure(submission: str, runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"sandbox": [], "inprocess": [], "sandbox_checks": [], "inprocess_checks": []}
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        for i in range(runs):
            out = Path(tmp) / f"sandbox-{i}"
            wall, results = _run([sys.executable, "-m", "grader", submission, "--out", str(out)], out)
            assert results["score"] == sum(t["max_score"] for t in results["tests"]), "the submission lost points"
            times["sandbox"].append(wall)
            times["sandbox_checks"].append(_checks_time(results))
            out = Path(tmp) / f"inprocess-{i}"
            wall, results = _run([sys.executable, "-c", IN_PROCESS, submission, str(out)], out)
            times["inprocess"].append(wall)
            times["inprocess_checks"].append(_checks_time(results))
            print(f"run {i + 1}/{runs}: sandboxed {times['sandbox'][-1]:.1f} s, in-process {wall:.1f} s", flush=True)
    return times


def round_trips(requests: int = 200) -> dict[str, float]:
    """Worker start (spawn to first answer) and the mean time of a tiny request, both ways."""
    sys.path.insert(0, str(ROOT))
    from grader.sandbox.backends import InProcessBackend, SandboxBackend
    from grader.sandbox.limits import Limits
    from grader.sandbox.stage import Stage, unprivileged_ids
    from grader.sandbox.student import Student

    files = {"probe.py": b"def add(a, b):\n    return a + b\n"}
    drop_to = unprivileged_ids() if os.geteuid() == 0 else None
    found = {}
    for mode in ("sandbox", "inprocess"):
        stage = Stage.create(files, "modules", drop_to)
        start = time.perf_counter()
        backend = (SandboxBackend(stage, Limits(), "cpu", ["torch"], drop_to) if mode == "sandbox"
                   else InProcessBackend(stage, "cpu"))
        student = Student(backend, Limits())
        student.fn("probe.add")(1, 2)
        found[f"{mode}_start"] = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(requests):
            student.fn("probe.add")(i, 1)
        found[f"{mode}_request"] = (time.perf_counter() - start) / requests
        backend.close()
        stage.remove()
    return found


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def render(
    times: dict[str, list[float]], trips: dict[str, float], submission: str, runs: int, load: tuple[float, float]
) -> str:
    import torch

    med = {k: statistics.median(v) for k, v in times.items()}
    rows = [
        (f"`python -m grader {submission}`, end to end (the full catalog)", med["sandbox"], med["inprocess"]),
        ("the checks alone (sum of the tests' own times)", med["sandbox_checks"], med["inprocess_checks"]),
    ]
    table = "\n".join(f"| {what} | {a:.1f} s | {b:.1f} s | {a / b:.2f}x |" for what, a, b in rows)
    table += (f"\n| start: spawn to the first answer (interpreter, torch, confinement) "
              f"| {trips['sandbox_start']:.2f} s | {trips['inprocess_start']:.2f} s | |")
    table += (f"\n| one small request, round trip (mean of 200) | {trips['sandbox_request'] * 1e3:.1f} ms "
              f"| {trips['inprocess_request'] * 1e3:.2f} ms | |")
    ok_time = "met" if med["sandbox"] <= 60 else "NOT met"
    ok_ratio = "met" if med["sandbox"] / med["inprocess"] <= 1.5 else "NOT met"
    return f"""{HEADING}

Measured by `make bench` (`tools/bench.py`) on {datetime.date.today().isoformat()}: {_cpu()}, {os.cpu_count()} cores,
Python {platform.python_version()}, torch {torch.__version__}, CPU only. Median of {runs} runs of each mode, alternated;
load average {load[0]:.1f} before and {load[1]:.1f} after (a load above the core count means other
jobs were running: the times are then upper bounds).

| What | Sandboxed | In-process | Ratio |
| --- | ---: | ---: | ---: |
{table}

"In-process" calls the same checks on the same submission inside the grader's process
(`grade(..., sandbox=False)`, for this measurement only). The sandbox adds one worker start (a
fresh interpreter importing torch, overlapped with the grader's own imports) and a
serialization round trip per request.

Goals (issue 3): full catalog within 60 s on CPU: {ok_time}; sandbox overhead within 1.5x: {ok_ratio}.
"""


def write_section(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == HEADING), None)
    if start is None:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
        text = "".join(lines[:start]) + section + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--submission", default="solution")
    args = ap.parse_args(argv)
    before = os.getloadavg()[0]
    times = measure(args.submission, args.runs)
    trips = round_trips()
    section = render(times, trips, args.submission, args.runs, (before, os.getloadavg()[0]))
    write_section(section)
    print(section)
    print(f"wrote the {HEADING!r} section of {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
