"""Command line: python -m grader SUBMISSION [--out DIR] [--tests all|public|NAME,...] [--device auto|cpu|cuda]
[--figures DIR] [--audience ta|student] [--hidden-as visible|hidden]
[--dialect auto|contract|adl-ex02|cs180-fa24-ddpm|cs180-flow]
[--map THEIRS=OURS]

Exit status 0 whenever grading completed (whatever the score); 2 when the grader could not run
(a missing data set or model file, a bad option, an output folder that is a symbolic link); 3 when
grading completed but the grader itself failed on some tests (the grade is incomplete: results.json
and the reports say which, and no student loses those points to it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import prerequisites
from .dialects import CHOICES, PLANNED
from .launch import GraderError, check_output_folder, launch, parse_map
from .rubric import RubricError, load_rubric
from .sandbox.limits import Limits

INCOMPLETE = 3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grader", description="Grade a diffusion-homework submission.")
    ap.add_argument("submission", type=Path, help="a folder with the modules, a .zip of it, or a .ipynb notebook")
    ap.add_argument("--out", type=Path, default=Path("build/grade"), help="where results.json and the reports go")
    ap.add_argument("--tests", default="all",
                    help="all, public (the tests shipped to students), or test names and part keys, comma-separated")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda (auto: cuda when available)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per request to the student's code")
    ap.add_argument("--total-time", type=float, default=None,
                    help=f"seconds for the whole grade (default {Limits().total_s:g}); tests that would start "
                         "later fail as the submission's")
    ap.add_argument("--figures", type=Path, default=None,
                    help="a folder holding figures/, losses/ and weights/ (make deliverables OUT=...) to grade "
                         "instead of the submission's own")
    ap.add_argument("--audience", choices=["ta", "student"], default="ta",
                    help="who reads the reports: ta (everything; the default) or student (messages worded for the "
                         "one uploading, no hidden test's details: what Gradescope's run_autograder uses)")
    ap.add_argument("--hidden-as", choices=["visible", "hidden"], default=None,
                    help="how results.json marks hidden tests: hidden (Gradescope hides them and the student's total "
                         "until published) or visible (title and points shown, details kept back, total shown); "
                         "default: visible for --audience student, hidden otherwise")
    ap.add_argument("--dialect", choices=CHOICES, default="auto",
                    help="whose API the submission is written to: this package's contract, or a course's own "
                         "(docs/dialects.md); auto (the default) detects it from the names the submission defines")
    ap.add_argument("--map", action="append", default=[], metavar="THEIRS=OURS",
                    help="grade the submission's name THEIRS as the contract's OURS (repeat, or comma-separate), "
                         "e.g. --map TimeAndClassConditionalUNet=ClassConditionalUNet")
    ap.add_argument("--trusted", action="store_true",
                    help="grade even where the student's code cannot be isolated (neither root nor user namespaces)")
    args = ap.parse_args(argv)
    try:
        check_output_folder(args.out)  # before grading, not only when the reports are written
        if args.dialect in PLANNED:
            raise GraderError(f"--dialect {args.dialect} is not graded yet")
        problems = prerequisites.missing(load_rubric(), args.tests)
        if problems:
            raise GraderError("; ".join(problems))
        limits = Limits().with_timeout(args.timeout).with_total(args.total_time)
        run = launch(args.submission, args.device, limits, figures=args.figures, trusted=args.trusted,
                     audience=args.audience, dialect=args.dialect, aliases=parse_map(args.map))
        # Imported only now: torch and pytest load while the worker starts.
        from .report import render_table
        from .run import finish

        result = finish(run, args.out, args.tests, hidden_as=args.hidden_as)
    except (FileNotFoundError, GraderError, RubricError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    print(render_table(result, args.out))
    if result.grader_errors:
        print(f"grader: the grade is incomplete: the grader itself failed on {', '.join(result.grader_errors)} "
              "(see the report); fix the set-up and grade again", file=sys.stderr)
        return INCOMPLETE
    return 0


if __name__ == "__main__":
    sys.exit(main())
