"""make mutation: the catalog's power, measured with an established mutation tool's operators.

Every mutation that cosmic-ray's operators (pinned in requirements-mutation.txt) can make inside a
marked region of solution/ (# BEGIN SOLUTION ... # END SOLUTION) becomes a copy of the reference
with that one change. The grader is the oracle: it grades each copy on the code's tests (the parts
a change to a solution module can affect; the training runs and the figures are left out, they
judge a student's own runs), and the mutant is killed when any of those tests loses points.
A survivor is either killed by a new or sharper check or listed, with a one-line reason, in
tests/grader_fixtures/equivalent_mutants.toml.

    make mutation                            # all three steps below, JOBS graders at a time
    python tools/mutation.py generate        # build/mutation/mutants.json (needs cosmic-ray)
    python tools/mutation.py grade --jobs 2  # build/mutation/results.json (needs the grader)
    python tools/mutation.py grade --only survived   # regrade the survivors after sharpening a check
    python tools/mutation.py report          # the score into docs/validity.md
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import difflib
import hashlib
import io
import json
import os
import shutil
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solution"
OUT = ROOT / "build" / "mutation"
MUTANTS = OUT / "mutants.json"
RESULTS = OUT / "results.json"
EQUIVALENT = ROOT / "tests" / "grader_fixtures" / "equivalent_mutants.toml"
PAGE = ROOT / "docs" / "validity.md"
# Modules whose marked regions the code's tests cannot judge by design, and why (their mutants still count).
OUT_OF_REACH = {"config.py": "no_scheduler returns the student's own settings for FM 2.6; the grader judges them by "
                             "that run's figures and model (part 10), which make mutation does not train"}
BEGIN, END = "<!-- mutation:begin -->", "<!-- mutation:end -->"


# --- generate (cosmic-ray's side: no torch needed) ---------------------------------------------

def regions(source: str) -> list[tuple[int, int]]:
    """(first, last) line numbers strictly inside each marked solution region."""
    spans, start = [], None
    for number, line in enumerate(source.splitlines(), 1):
        if "# BEGIN SOLUTION" in line:
            start = number
        elif "# END SOLUTION" in line and start is not None:
            spans.append((start + 1, number - 1))
            start = None
    return spans


def generate() -> list[dict]:
    """Every mutant cosmic-ray's operators make inside the marked regions, in file and line order."""
    import cosmic_ray.plugins
    from cosmic_ray.ast import ast_nodes, get_ast
    from cosmic_ray.mutating import mutate_code

    found = []
    for path in sorted(SOLUTION.glob("*.py")):
        source = path.read_text()
        spans = regions(source)
        if not spans:
            continue
        for op_name in cosmic_ray.plugins.operator_names():
            op_class = cosmic_ray.plugins.get_operator(op_name)
            if op_class.arguments():  # operators that need a configuration (none in cosmic-ray's core)
                continue
            operator = op_class()
            positions = [pos for node in ast_nodes(get_ast(source)) for pos in operator.mutation_positions(node)]
            seen: dict[tuple, int] = {}
            for occurrence, (start, _end) in enumerate(positions):
                if not any(first <= start[0] <= last for first, last in spans):
                    continue
                nth = seen[start] = seen.get(start, -1) + 1
                mutated = mutate_code(source, operator, occurrence)
                if mutated is None or mutated == source:
                    continue
                changed = [line for line in difflib.unified_diff(source.splitlines(), mutated.splitlines(), n=0,
                                                                   lineterm="")
                           if line[:1] in "+-" and not line.startswith(("+++", "---"))]
                found.append({
                    "id": f"{path.name}:{start[0]}:{start[1]}:{op_name.split('/', 1)[1]}:{nth}",
                    "module": path.name, "line": start[0], "operator": op_name,
                    "change": changed, "source": mutated,
                })
    return found


# --- grade (the grader's side) -----------------------------------------------------------------

def _tests() -> str:
    """The code's tests: every part but the training runs and the figures, plus the training part's
    tests of train.py's own functions (its smoke runs train a model: the figures' business here)."""
    from grader.rubric import load_rubric

    rubric = load_rubric()
    parts = [key for key in rubric.parts if key not in ("training", "figures")]
    train_py = [e.id for e in rubric.entries.values() if e.part == "training" and not e.id.startswith("test_train_")]
    return ",".join(parts + train_py + ["test_train_step"])


def _grade_one(mutant: dict, tests: str) -> dict:
    """Grade one mutant with the command's entry point in this (pool) process; its code runs only in
    the sandboxed worker the grader spawns, as a student's does."""
    from grader.__main__ import main

    work = OUT / "work" / mutant["id"].replace(":", "_")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(SOLUTION, work / "submission", ignore=shutil.ignore_patterns("__pycache__"))
    (work / "submission" / mutant["module"]).write_text(mutant["source"])
    started = time.monotonic()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main([str(work / "submission"), "--out", str(work / "out"), "--tests", tests])
        except BaseException as exc:  # noqa: BLE001 - a grader crash is reported, not hidden
            return {"id": mutant["id"], "status": "error", "detail": f"{type(exc).__name__}: {exc}"}
    if not (work / "out" / "results.json").is_file():
        return {"id": mutant["id"], "status": "error", "detail": "the grader wrote no results.json"}
    results = json.loads((work / "out" / "results.json").read_text())
    lost = [{"id": t["extra_data"]["id"], "output": t.get("output", "")[:300]}
            for t in results["tests"] if t["score"] < t["max_score"]]
    errors = [t["extra_data"]["id"] for t in results["tests"] if t["extra_data"].get("grader_error")]
    shutil.rmtree(work, ignore_errors=True)
    return {"id": mutant["id"], "status": "error" if errors else "killed" if lost else "survived",
            "killed_by": [t["id"] for t in lost], "first_message": lost[0]["output"] if lost else "",
            "seconds": round(time.monotonic() - started, 1)}


def grader_version() -> str:
    """A digest of the grader's code and rubric: a result graded by another version is not this one's."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "grader").rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _init_worker() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(ROOT))


def grade(jobs: int, only: str | None, fresh: bool) -> None:
    """Grade the mutants not graded yet (all of them when `fresh`; with `only`, those with that outcome,
    say the survivors after a check was sharpened). Each result records the grader's version, and the
    report says which versions the score comes from."""
    mutants = json.loads(MUTANTS.read_text())
    results = {} if fresh or not RESULTS.is_file() else json.loads(RESULTS.read_text())
    by_id = {m["id"]: m for m in mutants}
    version = grader_version()
    # A result stands for the code it graded: a mutant whose code changed is graded again.
    results = {k: v for k, v in results.items() if k in by_id and v.get("source") == _digest(by_id[k]["source"])}
    if only == "stale":
        todo = [m for m in mutants if m["id"] in results and results[m["id"]]["grader"] != version]
    elif only:
        todo = [m for m in mutants if results.get(m["id"], {}).get("status") == only]
    else:
        todo = [m for m in mutants if m["id"] not in results]
    sys.path.insert(0, str(ROOT))
    tests = _tests()
    print(f"grading {len(todo)} of {len(mutants)} mutants on {tests.count(',') + 1} parts and tests, "
          f"{jobs} at a time", flush=True)
    started = time.monotonic()
    with concurrent.futures.ProcessPoolExecutor(jobs, initializer=_init_worker) as pool:
        futures = [pool.submit(_grade_one, m, tests) for m in todo]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            result = future.result()
            result.update(source=_digest(by_id[result["id"]]["source"]), grader=version)
            results[result["id"]] = result
            if done % 10 == 0 or done == len(todo):
                RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True))
                rate = (time.monotonic() - started) / done
                print(f"  {done}/{len(todo)}  {rate:.1f} s a mutant, "
                      f"{sum(r['status'] == 'survived' for r in results.values())} survived so far", flush=True)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# --- report ------------------------------------------------------------------------------------

def equivalent() -> dict[str, str]:
    """id -> why the mutant cannot be told from the reference by what the grader may observe."""
    listed = tomllib.loads(EQUIVALENT.read_text()) if EQUIVALENT.is_file() else {}
    return {key: value["why"] for key, value in listed.items()}


def summary() -> dict:
    mutants = {m["id"]: m for m in json.loads(MUTANTS.read_text())}
    results = json.loads(RESULTS.read_text())
    eq = equivalent()
    stale = sorted(set(eq) - set(mutants))
    graded = [results[k] for k in mutants if k in results]
    counted = [r for r in graded if r["id"] not in eq]
    killed = sum(r["status"] == "killed" for r in counted)
    survived = sorted(r["id"] for r in counted if r["status"] == "survived")
    return {"generated": len(mutants), "graded": len(graded), "equivalent": len(set(eq) & set(mutants)),
            "killed": killed, "counted": len(counted), "survived": survived, "stale_equivalents": stale,
            "errors": sorted(r["id"] for r in counted if r["status"] == "error"),
            "score": killed / len(counted) if counted else 0.0,
            "seconds": round(sum(r.get("seconds", 0) for r in graded)), "mutants": mutants,
            "versions": Counter(r["grader"] for r in graded), "current": grader_version(),
            "current_survivors": sum(r["grader"] == grader_version() for r in counted
                                     if r["status"] in ("survived", "error"))}


def section(s: dict) -> str:
    eq = equivalent()
    lines = [BEGIN, "", "## Machine-made mutants: cosmic-ray's operators", "",
             "`make mutation` (`tools/mutation.py`, cosmic-ray pinned in `pyproject.toml`): every",
             "mutation cosmic-ray's operators make inside a marked solution region, each graded by the grader",
             "on the code's tests. Not part of `make test`: it grades every mutant in a fresh sandbox.", "",
             "| | measured |", "| --- | ---: |",
             f"| mutants generated | {s['generated']} |",
             f"| listed as equivalent (below, with the reason) | {s['equivalent']} |",
             f"| killed / non-equivalent | {s['killed']} / {s['counted']} |",
             f"| **mutation score** | **{100 * s['score']:.1f}%** |",
             f"| grading time, summed over the mutants | {s['seconds'] / 60:.0f} min |",
             "| graded by the grader version (a digest of grader/) | "
             + ", ".join(f"{v}{' (current)' if v == s['current'] else ''}: {n}" for v, n in s["versions"].items())
             + " |", "",
             "A kill by an earlier version of the grader stands while every later one keeps its checks (so far they",
             "added checks and turned a grader crash into a failure); every survivor and grader error is graded",
             f"again by the current one (`grade --only survived`): {s['current_survivors']} of "
             f"{len(s['survived']) + len(s['errors'])} are.", ""]
    if s["survived"]:
        lines += ["Surviving mutants (not killed, not equivalent; counted against the score):", ""]
        lines += [f"- `{k}`: `{' / '.join(s['mutants'][k]['change'])[:160]}`" for k in s["survived"]]
        lines.append("")
        for module, why in OUT_OF_REACH.items():
            if any(k.startswith(f"{module}:") for k in s["survived"]):
                lines += [f"The `{module}` survivors: {why}.", ""]
    if eq:
        lines += ["Equivalent mutants (`tests/grader_fixtures/equivalent_mutants.toml`):", ""]
        lines += [f"- `{k}`: {why}" for k, why in sorted(eq.items()) if k in s["mutants"]]
        lines.append("")
    return "\n".join(lines + [END])


def report() -> dict:
    s = summary()
    page = PAGE.read_text()
    block = section(s)
    if BEGIN not in page:  # tools/validity.py writes the block's place
        raise SystemExit("docs/validity.md has no mutation block: run make validity first")
    PAGE.write_text(page[:page.index(BEGIN)] + block + page[page.index(END) + len(END):])
    print(f"mutation score {100 * s['score']:.1f}%: {s['killed']} killed of {s['counted']} non-equivalent "
          f"({s['equivalent']} equivalent, {len(s['survived'])} survived, {len(s['errors'])} grader errors)")
    if s["stale_equivalents"]:
        print(f"listed as equivalent but no longer generated: {', '.join(s['stale_equivalents'])}")
    return s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["generate", "grade", "report"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", choices=["survived", "error", "stale"],
                        help="regrade only the mutants with this outcome (stale: graded by another grader version)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results and grade every mutant")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.step == "generate":
        mutants = generate()
        MUTANTS.write_text(json.dumps(mutants, indent=1))
        print(f"{len(mutants)} mutants in {len({m['module'] for m in mutants})} modules -> {MUTANTS.relative_to(ROOT)}")
    elif args.step == "grade":
        grade(args.jobs, args.only, args.fresh)
    else:
        s = report()
        return 0 if s["score"] >= 0.95 and not s["errors"] else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
