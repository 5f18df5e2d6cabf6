"""docs/validity.md, written from a `make test` run: the mutation score, the correct variants and
every case of the hostile corpus with its outcome as root and, for those the worker's confinement
defends, as an ordinary user.

    python tools/validity.py            # write docs/validity.md from build/
    python tools/validity.py --check    # exit 1 when docs/validity.md is not what the run gives

Inputs: build/junit.xml (the main pass), build/junit-unprivileged.xml (the pass as `nobody`, when
make test ran as root), build/mutation-score.json (tests/test_grader_mutants.py), and the corpus
list (tests/grader_fixtures/corpus.py). Nothing in the page is typed by hand but its prose. The
block of `make mutation` (tools/mutation.py) is kept as that command last wrote it.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.grader_fixtures.corpus import CLASSES, all_cases  # noqa: E402

BUILD = ROOT / "build"
PAGE = ROOT / "docs" / "validity.md"
MUTATION_BEGIN, MUTATION_END = "<!-- mutation:begin -->", "<!-- mutation:end -->"
SHOWN = {"passed": "holds", "failed": "**FAILED**", "skipped": "skipped", None: "not in this pass"}


def outcomes(junit: Path) -> dict[str, str]:
    """pytest node id -> passed / failed / skipped."""
    found = {}
    if not junit.is_file():
        return found
    for case in ET.parse(junit).getroot().iter("testcase"):
        node = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")
        tags = {child.tag for child in case}
        found[node] = "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
    return found


def mutation_section() -> str:
    """The block `make mutation` writes (tools/mutation.py): too long for make test, so kept as it is."""
    page = PAGE.read_text() if PAGE.is_file() else ""
    if MUTATION_BEGIN in page and MUTATION_END in page:
        return page[page.index(MUTATION_BEGIN):page.index(MUTATION_END) + len(MUTATION_END)]
    return "\n".join([MUTATION_BEGIN, "", "## Machine-made mutants: cosmic-ray's operators", "",
                      "Not measured yet: run `make mutation`.", "", MUTATION_END])


DIALECT_FILES = {"adl-ex02": "tests/test_dialect_adl.py", "cs180-fa24-ddpm": "tests/test_dialect_cs180.py",
                 "cs180-flow": "tests/test_dialect_flow.py"}


def dialect_section(main: dict[str, str], nobody: dict[str, str]) -> list[str]:
    """The course dialects' corpora (docs/dialects.md): each file's reference and correct variations, bugs and
    unfilled skeleton, as the run went."""
    lines = ["## Course dialects", "",
             "Each dialect's own corpus (`tests/dialects/`, `tests/grader_fixtures/<dialect>.py`), graded in the",
             "course's API: complete work and its correct variations must get full marks, each realistic bug must",
             "lose exactly its tests and be named, the unfilled skeleton may keep at most a tenth of the points.",
             "", "| dialect | full marks (reference and variations) | bugs caught and named | unfilled skeleton "
             "| reference as an ordinary user |", "| --- | ---: | ---: | --- | --- |"]
    for name, file in DIALECT_FILES.items():
        mine = {n: o for n, o in main.items() if n.startswith(file + "::")}
        full = [o for n, o in mine.items() if "full_marks" in n.split("::")[1]]
        bugs = [o for n, o in mine.items() if "::test_bugs_are_caught_and_named[" in n]
        skeleton = [o for n, o in mine.items() if "at_most_a_tenth" in n]
        user = [o for n, o in nobody.items() if n.startswith(file + "::") and "reference" in n]
        lines.append(f"| `{name}` | {full.count('passed')} of {len(full)} | {bugs.count('passed')} of {len(bugs)} | "
                     f"{SHOWN[skeleton[0] if skeleton else None]} | {SHOWN[user[0] if user else None]} |")
    return [*lines, ""]


def render() -> str:
    main, nobody = outcomes(BUILD / "junit.xml"), outcomes(BUILD / "junit-unprivileged.xml")
    score = json.loads((BUILD / "mutation-score.json").read_text()) if (BUILD / "mutation-score.json").is_file() else {}
    correct = [n for n in main if n.startswith("tests/test_grader_correct.py::test_correct_variant_gets_full_marks[")]
    cases = all_cases()
    lines = [
        "# Is the grade right?",
        "",
        "<!-- Written by tools/validity.py from a `make test` run (build/junit*.xml, build/mutation-score.json)",
        "     and the corpus list tests/grader_fixtures/corpus.py: run `make validity`, do not edit. -->",
        "",
        "A grader is only as good as the bugs it catches, the correct work it accepts and the attacks it",
        "withstands. Three corpora under `tests/` measure these; all of them run in `make test`.",
        "",
        "## Realistic bugs: mutation testing",
        "",
        "`tests/grader_fixtures/mutants.py`: small wrong variants of the reference, the mistakes students make,",
        "at least one for every stub of the skeleton. Each names the test that must lose its points and,",
        "where the grader knows the mistake, a phrase its hint must contain.",
        "",
        "| | measured |",
        "| --- | ---: |",
        f"| mutants caught | {score.get('caught', '?')} / {score.get('mutants', '?')} |",
        f"| caught with a hint that names the bug | {score.get('hinted', '?')} / {score.get('mutants', '?')} |",
        "",
        mutation_section(),
        "",
        "## Correct variants: no false failures",
        "",
        "`tests/grader_fixtures/correct.py`: right implementations written differently (and the solution",
        "notebook). Each must get full marks on the code's tests.",
        "",
        f"Full marks: **{sum(main[n] == 'passed' for n in correct)} of {len(correct)}**.",
        "",
        "## Hostile submissions and inputs",
        "",
        "Every attack of `tests/grader_fixtures/corpus.py`, by class of the threat model in",
        "[security.md](security.md). Each is graded to completion: the grader exits 0 with a complete",
        "`results.json`, the submission loses exactly what its code breaks and gains nothing from the",
        "attack. \"holds\" is the test passing; the second column is the pass of `make test` as the",
        "ordinary user `nobody`, which runs the sandbox tests again and every case whose defence is the",
        "worker's confinement (it differs between the two modes: a uid of its own as root, a user namespace",
        "otherwise). \"same code\": the grader's own code defends it (its loader, its reading of the",
        "worker's replies, its deadlines, its checks), which does not depend on the mode.",
        "",
    ]
    as_root = Counter(main.get(c.test) for c in cases)
    as_user = Counter(nobody.get(c.test) for c in cases if c.both_modes)
    lines += [
        f"**{len(cases)} cases in {len({c.cls for c in cases})} classes.** As root: {as_root['passed']} hold, "
        f"{as_root['failed']} failed, {as_root['skipped']} skipped, {as_root[None]} not run. As an ordinary user: "
        f"{as_user['passed']} hold, {as_user['failed']} failed, {as_user['skipped']} skipped (only root can stop "
        f"them), {as_user[None]} missing from that pass; {sum(not c.both_modes for c in cases)} are defended by the "
        "same code in both modes.",
        "",
    ]
    for key, title in CLASSES.items():
        members = [c for c in cases if c.cls == key]
        if not members:
            continue
        lines += [f"### {title}", "", "| case | as root | as an ordinary user | test |", "| --- | --- | --- | --- |"]
        for c in members:
            test = c.test.split("::", 1)
            user = SHOWN[nobody.get(c.test)] if c.both_modes or c.test in nobody else "same code"
            lines.append(f"| {c.what} | {SHOWN[main.get(c.test)]} | {user} | "
                         f"`{Path(test[0]).name}::{test[1]}` |")
        lines.append("")
    lines += [
        "These are the attacks the corpus lists; the gaps known beyond them are in",
        "[security.md](security.md#not-yet-enforced).",
        "",
        *dialect_section(main, nobody),
        "## Determinism",
        "",
        "`tests/test_gradescope.py::test_reference_gets_full_marks_on_the_code` grades the reference through",
        "Gradescope's `run_autograder` (its own installation and process) and compares it with the command's",
        "own grading of it, training smoke tests included: every test's score, status and message must be",
        "identical. `make bench` grades it 10 times",
        "and reports the spread in [benchmarks.md](benchmarks.md) (goal: zero).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with docs/validity.md instead of writing it")
    args = ap.parse_args(argv)
    if not (BUILD / "junit.xml").is_file():
        print("validity: no build/junit.xml: run make test first", file=sys.stderr)
        return 2
    page = render()
    if not args.check:
        PAGE.write_text(page)
        print(f"validity: wrote {PAGE.relative_to(ROOT)}")
        return 0
    if PAGE.read_text() == page:
        print("validity: docs/validity.md matches this run")
        return 0
    diff = difflib.unified_diff(PAGE.read_text().splitlines(), page.splitlines(), "docs/validity.md", "this run",
                                lineterm="", n=0)
    print("\n".join(list(diff)[:60]), file=sys.stderr)
    print("validity: docs/validity.md is not what this run gives: run make validity and commit it", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
