"""Generate the student skeleton from the reference solution.

Every region of solution/*.py between `# BEGIN SOLUTION: <what to do> | <hint>` (continued
on following `#   ...` comment lines) and `# END SOLUTION` becomes
`raise NotImplementedError("TODO(<function>): <what to do> ...")`
at the marker's indentation. Everything else (signatures, docstrings, helpers) is copied.

    python tools/make_skeleton.py            # write skeleton/
    python tools/make_skeleton.py --check    # fail if skeleton/ differs from a fresh generation
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?::\s*(?P<text>.*))?$")
MORE = re.compile(r"^\s*#\s{3}(?P<text>\S.*)$")  # "#   continued" lines right after BEGIN
END = re.compile(r"^\s*# END SOLUTION\s*$")
HEADER = "# Generated from the reference by tools/make_skeleton.py: do not edit by hand.\n"


class MarkerError(ValueError):
    pass


def _qualnames(source: str) -> dict[int, str]:
    """line number -> qualified name of the innermost function or class holding it."""
    names: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                    names[line] = name
                visit(child, name + ".")

    visit(ast.parse(source), "")
    return names


def _stub(indent: str, where: str, text: str | None) -> list[str]:
    what, _, hint = (text or "implement this part").partition("|")
    message = f"TODO({where}): {what.strip()}."
    if hint.strip():
        message += f" Hint: {hint.strip()}."
    width = max(40, 96 - len(indent))
    parts = textwrap.wrap(message, width, drop_whitespace=False) or [message]
    if len(parts) == 1:
        return [f"{indent}raise NotImplementedError({parts[0]!r})\n"]
    body = [f"{indent}    {p!r}\n" for p in parts]
    return [f"{indent}raise NotImplementedError(\n", *body, f"{indent})\n"]


def strip_solutions(source: str, filename: str = "<source>") -> str:
    """The skeleton version of one solution file."""
    names = _qualnames(source)
    out: list[str] = []
    open_at: int | None = None
    lines = source.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        begin = BEGIN.match(line.rstrip("\n"))
        if begin:
            if open_at is not None:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION inside the region opened at line {open_at}")
            open_at = number
            text = begin["text"] or ""
            for more in lines[number:]:
                cont = MORE.match(more.rstrip("\n"))
                if not cont:
                    break
                text += " " + cont["text"]
            out += _stub(begin["indent"], names.get(number, "module"), text or None)
        elif END.match(line):
            if open_at is None:
                raise MarkerError(f"{filename}:{number}: END SOLUTION without BEGIN SOLUTION")
            open_at = None
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at}: BEGIN SOLUTION never closed")
    result = HEADER + "".join(out)
    ast.parse(result, filename)  # the skeleton must stay valid Python
    return result


def generate(src: Path, dst: Path) -> list[Path]:
    """Write the skeleton of every .py file under src into dst; returns the files written."""
    written = []
    for path in sorted(src.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(strip_solutions(path.read_text(), str(path.relative_to(ROOT))))
        written.append(target)
    return written


def compare(expected: Path, actual: Path) -> list[str]:
    """Differences between two generated trees, as readable lines (empty when in sync)."""
    problems = []
    exp = {p.relative_to(expected) for p in expected.rglob("*.py") if "__pycache__" not in p.parts}
    act = (
        {p.relative_to(actual) for p in actual.rglob("*.py") if "__pycache__" not in p.parts}
        if actual.exists()
        else set()
    )
    for rel in sorted(exp - act):
        problems.append(f"missing in skeleton/: {rel}")
    for rel in sorted(act - exp):
        problems.append(f"not generated from solution/: skeleton/{rel}")
    for rel in sorted(exp & act):
        a, b = (expected / rel).read_text(), (actual / rel).read_text()
        if a != b:
            diff = difflib.unified_diff(
                b.splitlines(), a.splitlines(), f"skeleton/{rel}", "generated", lineterm="", n=1
            )
            problems.append("\n".join(list(diff)[:40]))
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=ROOT / "solution")
    ap.add_argument("--dst", type=Path, default=ROOT / "skeleton")
    ap.add_argument("--check", action="store_true", help="compare with a fresh generation instead of writing")
    args = ap.parse_args(argv)
    if not args.check:
        for stale in args.dst.rglob("*.py") if args.dst.exists() else []:
            stale.unlink()
        files = generate(args.src, args.dst)
        print(f"wrote {len(files)} files to {args.dst}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(args.src, Path(tmp))
        problems = compare(Path(tmp), args.dst)
    if problems:
        print("skeleton/ is out of sync with solution/; run `make skeleton`:", *problems, sep="\n")
        return 1
    print("skeleton/ is in sync with solution/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
