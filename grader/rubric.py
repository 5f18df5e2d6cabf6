"""The rubric: the parts (rubric.toml) and the graded tests declared in the catalog. (The figure
checks' thresholds are beside the checks, grader/figures/checks.py, and a figure's own in the manifest.)

Each graded test declares itself where it is written, in its catalog file:

    @graded("ddpm_schedule: alphas and alpha_bars", points=3, visibility="visible", hint="...")
    def test_ddpm_schedule(student): ...

The declarations are read from the source with `ast` (literals only), so the rubric is known
without importing the catalog (torch, the sandbox). The known mistakes a test can name are read from
its code as well: the functions of grader/checks/misconceptions.py it calls, itself or through the
helpers of its file, so they cannot drift from what it checks. A catalog file `test_<n>_<name>.py` holds the
tests of the n-th part of rubric.toml's [parts]; the report's order is part order, then file order.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .paths import GRADER
from .paths import RUBRIC as RUBRIC_PATH

VISIBILITIES = ("visible", "hidden", "after_published")
DECLARED = ("title", "points", "visibility", "hint")  # the literal arguments of @graded (`when` is code)
# ... and, by keyword only, `dialects`: the course dialects a test is written for (default: the contract's tests)


class RubricError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    id: str  # the test function's name
    part: str
    title: str
    points: float
    visibility: str
    hint: str | None
    number: str  # "3.2": part 3, second test
    misconceptions: tuple[str, ...] = ()  # the functions of checks/misconceptions.py whose mistakes it can name
    dialects: tuple[str, ...] | None = None  # declared for these dialects only (None: a test of the contract)

    @property
    def public(self) -> bool:
        return self.visibility == "visible"

    def selected(self, selection: str) -> bool:
        """Whether `--tests selection` runs this test: all, public, or test names and part keys ("unet,flow")."""
        if selection == "all":
            return True
        if selection == "public":
            return self.public
        return self.id in selection.split(",") or self.part in selection.split(",")


@dataclass(frozen=True)
class Rubric:
    parts: dict[str, str]  # key -> title, in order
    entries: dict[str, Entry]  # test id -> entry, in order: the tests of this dialect's assignment
    dialect: str = "contract"
    # the contract's tests that are not part of this dialect's assignment: out of the maximum, shown as such
    not_applicable: dict[str, Entry] = field(default_factory=dict)
    other_dialects: dict[str, Entry] = field(default_factory=dict)  # tests written for other dialects: not shown

    def declared(self, test_id: str) -> bool:
        return test_id in self.entries or test_id in self.not_applicable or test_id in self.other_dialects

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.entries.values())


def load_rubric(path: Path = RUBRIC_PATH, catalog: Path | None = None, dialect: str = "contract") -> Rubric:
    """rubric.toml's parts and the tests declared in `catalog` (by default the catalog/ folder beside
    rubric.toml) that are part of `dialect`'s assignment (grader/dialects/); the others are listed as
    not applicable. Tests are numbered within their part among those that apply."""
    from .dialects import get

    course = get(dialect)
    with open(path, "rb") as f:
        data = tomllib.load(f)
    parts = data.pop("parts", {})
    if not parts:
        raise RubricError(f"{path.name}: no [parts] table")
    if "figures" in data:
        raise RubricError(f"{path.name}: [figures.*] tables are gone: a figure check's thresholds are the defaults "
                          "of its function in grader/figures/checks.py, a figure's own in the manifest")
    if data:
        raise RubricError(f"{path.name}: unknown tables {sorted(data)}: a test's points, visibility and hint "
                          "are declared with @graded in its catalog file")
    entries: dict[str, Entry] = {}
    left_out: dict[str, Entry] = {}
    others: dict[str, Entry] = {}
    for number, part, file in _catalog_files(catalog or path.parent / "catalog", list(parts)):
        named = misconceptions_named(file)
        i = 0
        for test_id, spec in declarations(file):
            if test_id in entries or test_id in left_out or test_id in others:
                seen = (entries.get(test_id) or left_out.get(test_id) or others[test_id]).part
                raise RubricError(f"{file.name}: {test_id} is declared twice (also in part {seen})")
            where = f"{file.name}: {test_id}"
            applies = course.applies(test_id, spec.get("dialects"))
            i += applies
            entry = replace(_entry(test_id, part, spec, f"{number}.{i}" if applies else "-", where),
                            misconceptions=named.get(test_id, ()))
            (entries if applies else left_out if spec.get("dialects") is None else others)[test_id] = entry
    unknown = [t for t in course.also if t not in entries]
    if unknown:
        raise RubricError(f"dialect {course.name} names tests the catalog does not have: {', '.join(unknown)}")
    return Rubric(dict(parts), entries, course.name, left_out, others)


def _catalog_files(catalog: Path, parts: list[str]) -> list[tuple[int, str, Path]]:
    """(part number, part key, file) for test_<n>_*.py, n = 1 .. len(parts), in part order."""
    files = {}
    for file in catalog.glob("test_*.py"):
        number = file.stem.split("_")[1]
        if not number.isdigit() or not 1 <= int(number) <= len(parts):
            raise RubricError(f"{file.name}: a catalog file is named test_<n>_<name>.py, n the number of its part "
                              f"in rubric.toml's [parts] (1 to {len(parts)})")
        if int(number) in files:
            raise RubricError(f"{file.name} and {files[int(number)].name} both claim part {number}")
        files[int(number)] = file
    return [(n, parts[n - 1], files[n]) for n in sorted(files)]


def _tree(file: Path) -> ast.Module:
    """The file's syntax tree, parsed once per version of it: the declarations and the misconceptions of a
    catalog file are both read from it, and the rubric is loaded several times in a grade."""
    stat = file.stat()
    return _parsed(str(file), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _parsed(path: str, mtime_ns: int, size: int) -> ast.Module:
    return ast.parse(Path(path).read_text(), path)


def declarations(file: Path) -> list[tuple[str, dict]]:
    """The @graded declarations of a catalog file, in file order: (test id, {title, points, ...})."""
    found = []
    for node in _tree(file).body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
            continue
        calls = [d for d in node.decorator_list if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "graded"]
        if not calls:
            raise RubricError(f"{file.name}:{node.lineno}: {node.name} is not declared with @graded(title, points=...)")
        call, where = calls[0], f"{file.name}:{node.lineno}: @graded of {node.name}"
        named = dict(zip(DECLARED, call.args, strict=False)) | {k.arg: k.value for k in call.keywords
                                                                  if k.arg in (*DECLARED, "dialects")}
        spec = {}
        for key, value in named.items():
            try:
                spec[key] = ast.literal_eval(value)
            except ValueError:
                raise RubricError(f"{where}: {key} must be a literal (the rubric is read, not run)") from None
        found.append((node.name, spec))
    return found


MISCONCEPTIONS = "grader.checks.misconceptions"


def misconceptions_named(file: Path) -> dict[str, tuple[str, ...]]:
    """Test id -> the misconceptions.py functions its code calls, directly or through the module-level
    functions of its file that it calls (transitively), in the order of first use."""
    tree = _tree(file)
    aliases = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and node.module == MISCONCEPTIONS.rsplit(".", 1)[0] for a in node.names if a.name == "misconceptions"}
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}

    def uses(node: ast.AST) -> tuple[list[str], list[str]]:
        named, calls = [], []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id in aliases:
                named.append(sub.attr)
            elif isinstance(sub, ast.Name) and sub.id in functions and sub.id != getattr(node, "name", None):
                calls.append(sub.id)
        return named, calls

    found = {}
    for name in (n for n in functions if n.startswith("test_")):
        seen, todo, named = {name}, [name], []
        while todo:
            more, calls = uses(functions[todo.pop(0)])
            named += more
            todo += [c for c in calls if c not in seen and not c.startswith("test_")]
            seen.update(calls)
        found[name] = tuple(dict.fromkeys(named))
    return found


def mistake_labels(function: str, path: Path = GRADER / "checks" / "misconceptions.py") -> list[str]:
    """The labels of the known mistakes a misconceptions.py function returns: the string keys of its dict
    literals (an f-string label is shown with {...} for what it computes)."""
    node = next((n for n in _tree(path).body if isinstance(n, ast.FunctionDef) and n.name == function), None)
    if node is None:
        raise RubricError(f"misconceptions.py has no function {function}")
    labels = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict):
            for key in sub.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value not in labels:
                    labels.append(key.value)
                elif isinstance(key, ast.JoinedStr):
                    labels.append("".join(v.value if isinstance(v, ast.Constant) else "{...}" for v in key.values))
    return [label for label in labels if " " in label]  # keys such as "alphas" group the labels of one quantity


def _entry(test_id: str, part: str, spec: dict, number: str, where: str) -> Entry:
    points = spec.get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise RubricError(f"{where}: points must be a number >= 0")
    visibility = spec.get("visibility", "visible")
    if visibility not in VISIBILITIES:
        raise RubricError(f"{where}: visibility must be one of {VISIBILITIES}")
    title, hint = spec.get("title"), spec.get("hint")
    if not isinstance(title, str) or not title:
        raise RubricError(f"{where}: a title is required")
    if hint is not None and not isinstance(hint, str):
        raise RubricError(f"{where}: the hint must be a string")
    dialects = spec.get("dialects")
    if dialects is not None:
        from .dialects import DIALECTS

        if not isinstance(dialects, tuple) or not dialects or any(d not in DIALECTS for d in dialects):
            raise RubricError(f"{where}: dialects must be a tuple of dialect names ({', '.join(DIALECTS)})")
    return Entry(test_id, part, title, float(points), visibility, hint, number, dialects=dialects)
