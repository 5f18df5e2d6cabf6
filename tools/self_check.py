"""The students' self-check, written from the catalog's declarations.

A catalog file declares, beside its graded tests, the self-check tests that check their contract
side (grader/plugin.py: self_check):

    @self_check("test_linear_schedule", points=2)
    def public_linear_schedule_length_range_and_ends(hw, kit):
        ...

Each becomes `test_linear_schedule_length_range_and_ends` in student/public_tests/test_public_<part>.py,
marked with its points and the grader tests it covers, in the catalog's order. A self-check may use
only what a student has: the fixtures hw, kit, time_net and class_net, torch and pytest; anything
else (the grader's reference formulas, its inputs, a helper of the catalog file) stops the
generation with the file and line. tools/rubric_docs.py writes the files and checks them.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from pathlib import Path

from grader.paths import GRADER
from grader.rubric import Rubric, _catalog_files

FIXTURES = {"hw", "kit", "time_net", "class_net"}  # student/public_tests/conftest.py
MODULES = {"torch", "pytest"}  # what a generated file imports
HEADER = ("Written from the course's test declarations, beside the grader's own tests; edits here are\n"
          "overwritten by the next release.")


@dataclass(frozen=True)
class SelfCheck:
    name: str  # test_... in the student's file
    part: str
    covers: tuple[str, ...]
    points: float
    source: str  # the function, `def test_...` to its last line
    where: str  # file:line of the declaration


def _free_names(fn: ast.FunctionDef) -> set[str]:
    """Names the function reads that it does not bind itself (parameters, assignments, loops,
    comprehensions, lambdas), nor builtins."""
    nodes = [n for part in (fn.args, *fn.body) for n in ast.walk(part)]  # not its decorators
    bound = {n.arg for n in nodes if isinstance(n, ast.arg)}
    bound |= {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    read = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return read - bound - set(dir(builtins))


def declared(rubric: Rubric, catalog: Path = GRADER / "catalog") -> list[SelfCheck]:
    """Every self-check of the catalog, in part order then file order."""
    found = []
    for _, part, file in _catalog_files(catalog, list(rubric.parts)):
        text = file.read_text()
        for node in ast.parse(text, str(file)).body:
            calls = [d for d in getattr(node, "decorator_list", [])
                     if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "self_check"]
            if not calls:
                continue
            where = f"{file.name}:{node.lineno}"
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("public_"):
                raise SystemExit(f"{where}: a self-check is a function named public_...")
            call = calls[0]
            try:
                covers = tuple(ast.literal_eval(a) for a in call.args)
                points = {k.arg: ast.literal_eval(k.value) for k in call.keywords}.get("points")
            except ValueError:
                raise SystemExit(f"{where}: @self_check takes literal test names and points=<number>") from None
            if not isinstance(points, int | float) or points <= 0 or not all(isinstance(c, str) for c in covers):
                raise SystemExit(f"{where}: @self_check takes the covered tests' names and points=<number > 0>")
            params = {a.arg for a in node.args.args}
            foreign = sorted((_free_names(node) - params - MODULES) | (params - FIXTURES))
            if foreign:
                raise SystemExit(f"{where}: {node.name} uses {', '.join(foreign)}: a self-check may use only the "
                                 f"fixtures {', '.join(sorted(FIXTURES))}, torch and pytest (no grader code)")
            lines = text.splitlines()[node.lineno - 1:node.end_lineno]
            lines[0] = lines[0].replace(f"def {node.name}(", f"def test_{node.name.removeprefix('public_')}(", 1)
            found.append(SelfCheck(f"test_{node.name.removeprefix('public_')}", part, covers, points,
                                   "\n".join(lines), where))
    return found


def render(rubric: Rubric, catalog: Path = GRADER / "catalog") -> dict[str, str]:
    """test_public_<part>.py -> its text, for every part with a self-check."""
    checks = declared(rubric, catalog)
    for c in checks:
        unknown = [n for n in c.covers if n not in rubric.entries or rubric.entries[n].visibility != "visible"]
        if unknown:  # the release names no test students cannot see yet
            raise SystemExit(f"{c.where}: covers {', '.join(unknown)}: not a visible test of the rubric")
    files = {}
    for part, title in rubric.parts.items():
        mine = [c for c in checks if c.part == part]
        if not mine:
            continue
        body = "\n".join(c.source for c in mine)
        imports = [f"import {m}" for m in sorted(MODULES) if m == "pytest" or f"{m}." in body]
        blocks = []
        for c in mine:
            covers = ", ".join(f'"{n}"' for n in c.covers)
            points = int(c.points) if float(c.points).is_integer() else c.points
            blocks.append(f"@pytest.mark.points({points})\n@pytest.mark.covers({covers})\n{c.source}\n")
        files[f"test_public_{part}.py"] = (f'"""Self-check of part {title}.\n\n{HEADER}\n"""\n\n'
                                           + "\n".join(imports) + "\n\n\n" + "\n\n".join(blocks))
    return files


def write(rubric: Rubric, folder: Path, check: bool = False) -> list[str]:
    """Write (or, with `check`, compare) the generated files; return the names that were stale. A
    test_public_*.py that no declaration makes any more is removed."""
    files = render(rubric)
    stale = []
    for name, text in files.items():
        path = folder / name
        if not path.exists() or path.read_text() != text:
            stale.append(name)
            if not check:
                path.write_text(text)
    for path in sorted(folder.glob("test_public_*.py")):
        if path.name not in files:
            stale.append(path.name)
            if not check:
                path.unlink()
    return stale
