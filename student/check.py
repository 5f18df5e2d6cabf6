"""Self-check: run the public tests on your modules and print a score per part.

    python check.py            # the package folder hw/ next to this file
    python check.py FOLDER     # another folder holding unet.py, schedules.py, diffusion.py, ...
    python check.py assignment.ipynb   # the notebook: its definitions, none of its training cells

The public tests only check what the handout fixes (shapes, keys, reproducibility, ...).
The grader runs more tests after you submit, so full marks here are a start, not a promise.
"""

from __future__ import annotations

import ast
import io
import json
import os
import sys
import tempfile
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE / "public_tests"
PARTS = ("unet", "noising", "training", "schedules", "q_sample", "loss", "p_sample", "ddpm_sample", "flow")


@dataclass
class Result:
    part: str
    name: str
    points: float
    passed: bool = True
    message: str = ""
    covers: tuple[str, ...] = ()  # the grader's tests whose contract side it checks


def _todo(exc: BaseException | None) -> str | None:
    """The TODO message of a NotImplementedError raised by a stub, also when it was re-raised."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, NotImplementedError):
            return str(exc) or "NotImplementedError"
        exc = exc.__cause__ or exc.__context__
    return None


def _explain(exc: BaseException, package: Path) -> str:
    todo = _todo(exc)
    if todo is not None:
        return f"not implemented yet: {todo}"
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__} in {Path(exc.filename or '?').name}, line {exc.lineno}: {exc.msg}"
    text = " ".join(str(exc).split())
    if isinstance(exc, AssertionError):
        return text.split(" assert ")[0].removeprefix("assert ") or "an assertion failed"
    where = ""
    tb = exc.__traceback__
    while tb is not None:  # the last line of your code on the way to the error
        if Path(tb.tb_frame.f_code.co_filename).parent == package:
            where = f" ({Path(tb.tb_frame.f_code.co_filename).name}, line {tb.tb_lineno})"
        tb = tb.tb_next
    return f"{type(exc).__name__}: {text[:300]}{where}"


class Collector:
    """A pytest plugin that records each test's part, points and outcome."""

    def __init__(self, package: Path) -> None:
        self.package = package
        self.results: dict[str, Result] = {}
        self.errors: list[str] = []

    def pytest_collection_modifyitems(self, items: list) -> None:
        for item in items:
            marker = item.get_closest_marker("points")
            part = item.path.stem.removeprefix("test_public_")
            covers = item.get_closest_marker("covers")
            self.results[item.nodeid] = Result(part, item.name, float(marker.args[0]) if marker else 0.0,
                                               covers=tuple(covers.args) if covers else ())

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.errors.append(f"could not load {report.nodeid}: {str(report.longrepr).strip().splitlines()[-1]}")

    def pytest_runtest_makereport(self, item, call) -> None:
        result = self.results.get(item.nodeid)
        if result is not None and call.excinfo is not None and result.passed:
            result.passed = False
            result.message = _explain(call.excinfo.value, self.package)


def run(package: Path) -> tuple[list[Result], list[str], int]:
    import pytest

    os.environ["HW_PACKAGE"] = str(package)
    sys.dont_write_bytecode = True
    collector = Collector(package)
    args = [str(TESTS), "-c", str(TESTS / "pytest.ini"), "--rootdir", str(TESTS), "-p", "no:cacheprovider", "-q"]
    log = io.StringIO()
    with redirect_stdout(log), redirect_stderr(log):
        code = pytest.main(args, plugins=[collector])
    if code not in (0, 1):  # 0: all passed, 1: some failed; anything else: pytest itself stopped
        collector.errors.append(log.getvalue().strip()[-2000:] or f"pytest stopped with exit code {code}")
    return list(collector.results.values()), collector.errors, int(code)


def report(results: list[Result], errors: list[str]) -> str:
    lines = [f"{'part':<12} {'tests':>7} {'points':>9}"]
    parts = [p for p in PARTS if any(r.part == p for r in results)]
    parts += sorted({r.part for r in results} - set(parts))
    for part in parts:
        rs = [r for r in results if r.part == part]
        got, worth = sum(r.points for r in rs if r.passed), sum(r.points for r in rs)
        lines.append(f"{part:<12} {sum(r.passed for r in rs):>3}/{len(rs):<3} {got:>4g}/{worth:<4g}")
    failed = sorted((r for r in results if not r.passed), key=lambda r: parts.index(r.part))
    if failed:
        lines += ["", "failed:"]
    shown: set[str] = set()
    for r in failed:
        message = r.message
        if message in shown:  # the same stub or error as a test above: say so briefly
            message = message.split(")")[0] + ") (see above)" if "TODO(" in message else "the same error as above"
        shown.add(r.message)
        lines.append(f"  {r.part}::{r.name} (-{r.points:g}): {message}")
    lines += errors
    score, total = sum(r.points for r in results if r.passed), sum(r.points for r in results)
    passed = sum(r.passed for r in results)
    lines += [
        "",
        f"self-check: score {score:g}/{total:g} ({passed} of {len(results)} public tests passed); {_covered(results)}; "
        "this is not your grade: the full grader runs more tests (hidden ones) after you submit",
    ]
    return "\n".join(lines)


def _covered(results: list[Result]) -> str:
    """Which of the grader's tests the self-check covers (their contract side only), by their numbers."""
    try:
        known = json.loads((TESTS / "covers.json").read_text())
    except (OSError, ValueError):
        known = {}
    named = list(dict.fromkeys(name for r in results for name in r.covers))
    numbers = sorted((known.get(n, {}).get("number", n) for n in named),
                     key=lambda x: [int(p) if p.isdigit() else 0 for p in x.split(".")])
    worth = sum(known.get(n, {}).get("points", 0) for n in named)
    return (f"it checks the contract side of {len(named)} of the grader's tests ({', '.join(numbers)}; "
            f"{worth:g} points of the grade), not their numerical checks")


NOTEBOOK_MODULE = '''"""The definitions of {name}, kept by check.py: each runs on its own, so one that fails
costs only the names it defines."""

_STATEMENTS = {statements!r}
NOTEBOOK_ERRORS = []

for _where, _source in _STATEMENTS:
    try:
        exec(compile(_source, _where, "exec"), globals())
    except Exception as _exc:  # noqa: BLE001 - reported by check.py, the rest still runs
        NOTEBOOK_ERRORS.append(f"{{_where}}: {{type(_exc).__name__}}: {{_exc}}")
'''
MODULES = ("unet", "schedules", "diffusion", "flow", "train", "config")


def _kept(node: ast.stmt) -> bool:
    """A definition of the notebook: imports, functions, classes, and assignments of constants or of
    values that call nothing (a training run, a data loader, a plot is none of these)."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        constant = len(names) == len(targets) and all(n.lstrip("_")[:1].isupper() for n in names)
        return constant or not any(isinstance(n, ast.Call) for n in ast.walk(node))
    return False


def from_notebook(notebook: Path, dest: Path) -> tuple[Path, list[str]]:
    """A package folder of the notebook's definitions (unet.py, diffusion.py, ... all re-export them), and
    a note per cell left out. Shell and magic lines (!pip, %matplotlib) are skipped."""
    try:
        cells = json.loads(notebook.read_text())["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"self-check: {notebook} is not a notebook that can be read ({exc})") from None
    statements, notes = [], []
    for number, cell in enumerate(cells, 1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        text = "\n".join("" if line.lstrip().startswith(("!", "%")) else line for line in source.splitlines())
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            notes.append(f"cell {number} is not valid Python ({exc.msg}, line {exc.lineno}): left out")
            continue
        for node in tree.body:
            if _kept(node):
                first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                body = "\n".join(text.splitlines()[first - 1:node.end_lineno])
                statements.append((f"<cell {number}, line {first}>", textwrap.dedent(body)))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "_notebook.py").write_text(NOTEBOOK_MODULE.format(name=notebook.name, statements=statements))
    for module in MODULES:
        (dest / f"{module}.py").write_text("from ._notebook import *  # noqa: F403\n")
    return dest, notes


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    package = Path(argv[0] if argv else HERE / "hw").resolve()
    notes: list[str] = []
    if package.suffix == ".ipynb":
        package, notes = from_notebook(package, Path(tempfile.mkdtemp(prefix="self-check-")) / "notebook")
    if not (package / "diffusion.py").is_file():
        print(f"self-check: {package} is not a folder holding your modules (unet.py, diffusion.py, ...)")
        return 2
    results, errors, code = run(package)
    if not results:
        print("self-check: no test ran", *errors, sep="\n")
        return 3
    print(report(results, errors + notes + _notebook_errors(package)))
    return 0


def _notebook_errors(package: Path) -> list[str]:
    """The notebook's definitions that failed when run (the tests that need them fail too)."""
    if not (package / "_notebook.py").is_file():
        return []
    import importlib

    try:
        return [f"notebook: {e}" for e in importlib.import_module("hw._notebook").NOTEBOOK_ERRORS]
    except Exception:  # noqa: BLE001 - the tests already reported what broke
        return []


if __name__ == "__main__":
    sys.exit(main())
