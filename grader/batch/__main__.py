"""python -m grader.batch: see grader/batch/__init__.py."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .pool import run_batch, total_time
from .version import grader_version


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grader.batch", description="Grade every submission of a folder.")
    ap.add_argument("submissions", type=Path, help="a folder holding one folder, .zip or .ipynb per submission")
    ap.add_argument("--out", type=Path, default=Path("build/class"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    ap.add_argument("--tests", default="all", help="as for python -m grader")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per request to the student's code")
    ap.add_argument("--limit", type=float, default=900.0,
                    help="seconds per submission: its grade's total time is this less a margin, "
                    "and a grader still running at the limit is killed")
    ap.add_argument("--dialect", default="auto", help="as for python -m grader (auto: each submission's own)")
    ap.add_argument("--map", action="append", default=[], help="as for python -m grader")
    ap.add_argument("--force", action="store_true", help="regrade submissions already graded")
    args = ap.parse_args(argv)
    if not args.submissions.is_dir():
        print(f"grader.batch: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    grader_args = ["--tests", args.tests, "--device", args.device, "--dialect", args.dialect]
    grader_args += [f"--map={m}" for m in args.map]
    grader_args += ["--timeout", f"{args.timeout:g}"] if args.timeout is not None else []
    # The grader's own total-time budget ends first, so that a slow submission gets a complete
    # results.json with its unfinished tests failed; the kill at --limit is only a backstop.
    grader_args += ["--total-time", f"{total_time(args.limit):g}"]
    version = grader_version(args.tests, args.device, args.timeout, args.dialect, tuple(args.map))
    start = time.monotonic()
    try:
        rows = run_batch(args.submissions, args.out, max(1, args.jobs), grader_args, args.tests, version, args.limit,
                         args.force, dialect=args.dialect)
    except KeyboardInterrupt:
        print("grader.batch: interrupted; run the same command again to grade the rest", file=sys.stderr)
        return 130
    errors = sum(r.status == "error" for r in rows)
    print(f"{len(rows)} submissions ({errors} errors) in {time.monotonic() - start:.0f} s: "
          f"{args.out / 'grades.csv'}, {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
