"""Command line: python -m grader SUBMISSION [--out DIR] [--tests all|public|NAME,...] [--device auto|cpu|cuda]
[--figures DIR]

Exit status 0 whenever grading completed (whatever the score); 2 when the grader could not run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .launch import GraderError, launch
from .rubric import RubricError
from .sandbox.limits import Limits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grader", description="Grade a diffusion-homework submission.")
    ap.add_argument("submission", type=Path, help="a folder with the modules, a .zip of it, or a .ipynb notebook")
    ap.add_argument("--out", type=Path, default=Path("build/grade"), help="where results.json and the reports go")
    ap.add_argument("--tests", default="all",
                    help="all, public (the tests shipped to students), or test names and part keys, comma-separated")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda (auto: cuda when available)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per request to the student's code")
    ap.add_argument("--figures", type=Path, default=None,
                    help="a folder holding figures/ and losses/ (make deliverables OUT=...) to grade instead of "
                         "the submission's own")
    args = ap.parse_args(argv)
    try:
        run = launch(args.submission, args.device, Limits().with_timeout(args.timeout), figures=args.figures)
        # Imported only now: torch and pytest load while the worker starts.
        from .report import render_table
        from .run import finish

        result = finish(run, args.out, args.tests)
    except (FileNotFoundError, GraderError, RubricError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    print(render_table(result, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
