"""The test suite's time, from a pytest JUnit file: per test file and per kind of work.

    python tools/test_durations.py build/junit.xml                       # the tables (Markdown)
    python tools/test_durations.py build/junit.xml --json tests/durations.json   # and the per-test seconds
    python tools/test_durations.py after.xml --before before.xml        # before/after, side by side
    python tools/test_durations.py after.xml --before tests/durations.json  # before: an earlier run's seconds

tests/durations.json is what tests/conftest.py orders the work by (longest first on two workers).
A test's time includes the set-up of the fixtures it is the first to use.
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

# Which kind of work each test file is (issue 12's breakdown); anything else is "unit and other".
KINDS = {
    "grading corpora": ("test_grader_mutants", "test_grader_correct", "test_grader_hostile", "test_grader_broken"),
    "reference and skeleton grades": ("test_grader_solution", "test_grader_skeleton",
                                      "test_grader_notebook", "test_grader_report", "test_grader_submission"),
    "training": ("test_train", "test_grader_training", "test_deliverables", "test_classifier"),
    "deliverables (quick profile) and figures": ("test_quick_deliverables", "test_grader_figures"),
    "notebook execution": ("test_notebook",),
    "installs: Gradescope setup.sh, student release": ("test_gradescope", "test_student_release"),
    "browser": ("test_browser",),
    "class grading (batch)": ("test_batch",),
}


def read(junit: Path) -> dict[str, float]:
    """nodeid -> seconds, for every test case of the file (passed, failed or skipped)."""
    out: dict[str, float] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "")
        parts = module.split(".")
        # classname is tests.test_x (or tests.test_x.Class); the file is the first test_ part.
        i = next((k for k, p in enumerate(parts) if p.startswith("test_")), len(parts) - 1)
        path = "/".join(parts[: i + 1]) + ".py"
        cls = "::".join(parts[i + 1:])
        out["::".join(p for p in (path, cls, case.get("name", "")) if p)] = round(float(case.get("time", 0)), 2)
    return out


def kind(nodeid: str) -> str:
    stem = Path(nodeid.split("::")[0]).stem
    return next((k for k, stems in KINDS.items() if stem in stems), "unit and other")


def _sums(seconds: dict[str, float], by) -> dict[str, tuple[int, float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for nodeid, s in seconds.items():
        out[by(nodeid)].append(s)
    return {k: (len(v), sum(v)) for k, v in out.items()}


def compare(before: dict[str, float], after: dict[str, float]) -> str:
    """Per file and per kind: tests and seconds before, and after."""
    lines = []
    for title, by in (("test file", lambda n: f"`{n.split('::')[0]}`"), ("kind", kind)):
        b, a = _sums(before, by), _sums(after, by)
        lines += [f"| {title} | tests before | s before | tests after | s after |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for k in sorted(set(b) | set(a), key=lambda k: -max(b.get(k, (0, 0))[1], a.get(k, (0, 0))[1])):
            (nb, sb), (na, sa) = b.get(k, (0, 0.0)), a.get(k, (0, 0.0))
            lines.append(f"| {k} | {nb} | {sb:.0f} | {na} | {sa:.0f} |")
        lines += [f"| **all** | **{len(before)}** | **{sum(before.values()):.0f}** | **{len(after)}** | "
                  f"**{sum(after.values()):.0f}** |", ""]
    return "\n".join(lines).rstrip()


def tables(seconds: dict[str, float]) -> str:
    per_file: dict[str, list[float]] = defaultdict(list)
    per_kind: dict[str, list[float]] = defaultdict(list)
    for nodeid, s in seconds.items():
        per_file[nodeid.split("::")[0]].append(s)
        per_kind[kind(nodeid)].append(s)
    total = sum(seconds.values())
    lines = ["| test file | tests | seconds (sum of the tests' own) |", "| --- | ---: | ---: |"]
    for f, ss in sorted(per_file.items(), key=lambda kv: -sum(kv[1])):
        lines.append(f"| `{f}` | {len(ss)} | {sum(ss):.0f} |")
    lines += [f"| **all** | **{len(seconds)}** | **{total:.0f}** |", "",
              "| kind | tests | seconds | share |", "| --- | ---: | ---: | ---: |"]
    for k, ss in sorted(per_kind.items(), key=lambda kv: -sum(kv[1])):
        lines.append(f"| {k} | {len(ss)} | {sum(ss):.0f} | {100 * sum(ss) / total:.0f}% |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("junit", type=Path)
    ap.add_argument("--json", type=Path, help="also write the per-test seconds here (tests/durations.json)")
    ap.add_argument("--before", type=Path, help="an earlier run's JUnit file (or the .json that --json wrote): "
                    "print both side by side")
    args = ap.parse_args()
    seconds = read(args.junit)
    if args.json:
        args.json.write_text(json.dumps(dict(sorted(seconds.items())), indent=0) + "\n")
    if args.before is None:
        print(tables(seconds))
        return
    before = json.loads(args.before.read_text()) if args.before.suffix == ".json" else read(args.before)
    print(compare(before, seconds))


if __name__ == "__main__":
    main()
