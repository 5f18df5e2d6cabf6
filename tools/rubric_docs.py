"""The rubric's numbers in the docs, written from the catalog's declarations, never typed.

    python tools/rubric_docs.py          # rewrite every marked place
    python tools/rubric_docs.py --check  # exit 1 when one is stale (make test runs this check)

A block `<!-- rubric:points -->` ... `<!-- /rubric:points -->` holds the points table (part,
tests, points, and how many tests each visibility has); `<!-- rubric:mistakes -->` the known mistakes
each test can name (read from its code, see grader/rubric.py); an inline pair such as
`<!-- rubric:total -->N<!-- /rubric:total -->` holds one number (the names are in `numbers`);
`<!-- rubric:deliverables -->` every figure of the manifest and `<!-- rubric:hyperparameters -->` the
handout's settings of every run (config.py's full profile), for the student README.
The students' self-check is written here too: student/public_tests/test_public_<part>.py from the
catalog's @self_check declarations (tools/self_check.py), and covers.json, the grader tests they cover.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.rubric import VISIBILITIES, Rubric, load_rubric, mistake_labels  # noqa: E402
from tools import self_check  # noqa: E402

DOCS = ("README.md", "docs/grader.md", "docs/ta-guide.md", "docs/gradescope.md", "student/README.md")
COVERS = ROOT / "student" / "public_tests" / "covers.json"  # the grader tests the students' self-check covers
NOT_CODE = ("training", "figures")  # the code is every part but the training runs and the figures
MARK = re.compile(r"<!-- rubric:(?P<name>[a-z_]+) -->(?P<body>.*?)<!-- /rubric:(?P=name) -->", re.S)


def _fmt(x: float) -> str:
    return f"{x:g}"


def numbers(rubric: Rubric) -> dict[str, str]:
    entries = list(rubric.entries.values())
    code = [e for e in entries if e.part not in NOT_CODE]
    by = {part: [e for e in entries if e.part == part] for part in rubric.parts}
    out = {
        "total": _fmt(rubric.max_score),
        "tests": str(len(entries)),
        "code_points": _fmt(sum(e.points for e in code)),
        "code_tests": str(len(code)),
        "code_parts": str(len([p for p in rubric.parts if p not in NOT_CODE])),
        "training_points": _fmt(sum(e.points for e in by.get("training", []))),
        "figures_points": _fmt(sum(e.points for e in by.get("figures", []))),
        "figures_tests": str(len(by.get("figures", []))),
        "without_figures": _fmt(rubric.max_score - sum(e.points for e in by.get("figures", []))),
    }
    for v in VISIBILITIES:
        mine = [e for e in entries if e.visibility == v]
        out[f"{v}_tests"], out[f"{v}_points"] = str(len(mine)), _fmt(sum(e.points for e in mine))
    return out


def points_table(rubric: Rubric) -> str:
    rows = ["| part | tests | points | visible | after published | hidden |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for part, title in rubric.parts.items():
        mine = [e for e in rubric.entries.values() if e.part == part]
        counts = [str(sum(e.visibility == v for e in mine)) for v in ("visible", "after_published", "hidden")]
        rows.append(f"| {title} | {len(mine)} | {_fmt(sum(e.points for e in mine))} | {' | '.join(counts)} |")
    n = numbers(rubric)
    rows.append(f"| **total** | {n['tests']} | **{n['total']}** | {n['visible_tests']} | "
                f"{n['after_published_tests']} | {n['hidden_tests']} |")
    return "\n".join(rows)


def mistakes_table(rubric: Rubric) -> str:
    """One row per group of misconceptions.py: the tests that can name its mistakes, and the mistakes."""
    tests: dict[str, list[str]] = {}
    for e in rubric.entries.values():
        for name in e.misconceptions:
            tests.setdefault(name, []).append(f"{e.number} `{e.id}`")
    rows = ["| known mistakes of | named by | the mistakes |", "| --- | --- | --- |"]
    for name, named_by in tests.items():
        labels = "<br>".join(label.replace("|", "\\|") for label in mistake_labels(name))
        rows.append(f"| `{name}` | {', '.join(named_by)} | {labels} |")
    return "\n".join(rows)


def covers(rubric: Rubric) -> str:
    """covers.json: each grader test a self-check declares it covers, with its number, title and points
    (the self-check's score line says which grader tests it covers)."""
    named = [n for c in self_check.declared(rubric) for n in c.covers]
    chosen = [e for e in rubric.entries.values() if e.id in named]
    table = {e.id: {"number": e.number, "title": e.title, "points": e.points} for e in chosen}
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


def deliverables_table() -> str:
    """Every figure of the manifest (solution/manifest.py, the skeleton's too): file, part, what it shows."""
    from solution.manifest import FIGURES

    rows = ["| file (in `figures/`) | part | what it must show |", "| --- | --- | --- |"]
    rows += [f"| `{f['file']}` | {f['part']} | {f['shows'].replace('|', chr(92) + '|')} |" for f in FIGURES]
    return "\n".join(rows)


def hyperparameters_table() -> str:
    """The handout's settings of every run (config.py's full profile). The no-scheduler run is left out:
    its settings are the student's answer to FM 2.6."""
    from solution.config import PROFILES

    rows = ["| run | UNet | objective | width D | batch | learning rate | epochs | lr decay | clip | T |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for r in PROFILES["full"]:
        rows.append(f"| `{r.name}` | {r.model} | {r.objective} | {r.num_hiddens} | {r.batch_size} | {r.lr:g} | "
                    f"{r.epochs} | {'yes' if r.lr_decay else 'no'} | {r.grad_clip if r.grad_clip else '-'} | "
                    f"{r.num_ts} |")
    return "\n".join(rows)


def render(text: str, rubric: Rubric) -> str:
    values = numbers(rubric)

    def fill(m: re.Match) -> str:
        name = m["name"]
        if name == "points":
            body = f"\n{points_table(rubric)}\n"
        elif name == "mistakes":
            body = f"\n{mistakes_table(rubric)}\n"
        elif name == "deliverables":
            body = f"\n{deliverables_table()}\n"
        elif name == "hyperparameters":
            body = f"\n{hyperparameters_table()}\n"
        elif name in values:
            body = values[name]
        else:
            raise SystemExit(f"unknown rubric marker {name!r}: one of points, mistakes, deliverables, hyperparameters, "
                             f"{', '.join(values)}")
        return f"<!-- rubric:{name} -->{body}<!-- /rubric:{name} -->"

    return MARK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 when a page is stale")
    args = ap.parse_args(argv)
    rubric = load_rubric()
    stale = []
    for name in DOCS:
        path = ROOT / name
        text = path.read_text()
        new = render(text, rubric)
        if new != text:
            stale.append(name)
            if not args.check:
                path.write_text(new)
    stale += [f"student/public_tests/{name}" for name in self_check.write(rubric, COVERS.parent, check=args.check)]
    table = covers(rubric)
    if not COVERS.exists() or COVERS.read_text() != table:
        stale.append(str(COVERS.relative_to(ROOT)))
        if not args.check:
            COVERS.write_text(table)
    if args.check and stale:
        print(f"the rubric's numbers are stale in {', '.join(stale)}: run python tools/rubric_docs.py", file=sys.stderr)
        return 1
    if not args.check:
        print(f"rewrote {', '.join(stale) or 'nothing (all current)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
