"""The rubric: the parts (rubric.toml), the graded tests declared in the catalog, and the
thresholds of the figure checks (rubric.toml).

Each graded test declares itself where it is written, in its catalog file:

    @graded("ddpm_schedule: alphas and alpha_bars", points=3, visibility="visible", hint="...")
    def test_ddpm_schedule(student): ...

The declarations are read from the source with `ast` (literals only), so the rubric is known
without importing the catalog (torch, the sandbox). A catalog file `test_<n>_<name>.py` holds the
tests of the n-th part of rubric.toml's [parts]; the report's order is part order, then file order.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .paths import RUBRIC as RUBRIC_PATH

VISIBILITIES = ("visible", "hidden", "after_published")
DECLARED = ("title", "points", "visibility", "hint")  # the literal arguments of @graded (`when` is code)


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
    entries: dict[str, Entry]  # test id -> entry, in order
    figures: dict[str, dict] = field(default_factory=dict)  # check name -> thresholds (and per-figure overrides)

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.entries.values())


def load_rubric(path: Path = RUBRIC_PATH, catalog: Path | None = None) -> Rubric:
    """rubric.toml's parts and figure thresholds, and the tests declared in `catalog` (by default
    the catalog/ folder beside rubric.toml)."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    parts = data.pop("parts", {})
    if not parts:
        raise RubricError(f"{path.name}: no [parts] table")
    figures = _figure_thresholds(data.pop("figures", {}), path.name)
    if data:
        raise RubricError(f"{path.name}: unknown tables {sorted(data)}: a test's points, visibility and hint "
                          "are declared with @graded in its catalog file")
    entries: dict[str, Entry] = {}
    for number, part, file in _catalog_files(catalog or path.parent / "catalog", list(parts)):
        for i, (test_id, spec) in enumerate(declarations(file), start=1):
            if test_id in entries:
                raise RubricError(f"{file.name}: {test_id} is declared twice (also in part {entries[test_id].part})")
            entries[test_id] = _entry(test_id, part, spec, f"{number}.{i}", f"{file.name}: {test_id}")
    return Rubric(dict(parts), entries, figures)


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


def declarations(file: Path) -> list[tuple[str, dict]]:
    """The @graded declarations of a catalog file, in file order: (test id, {title, points, ...})."""
    found = []
    for node in ast.parse(file.read_text(), str(file)).body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
            continue
        calls = [d for d in node.decorator_list if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "graded"]
        if not calls:
            raise RubricError(f"{file.name}:{node.lineno}: {node.name} is not declared with @graded(title, points=...)")
        call, where = calls[0], f"{file.name}:{node.lineno}: @graded of {node.name}"
        named = dict(zip(DECLARED, call.args, strict=False)) | {k.arg: k.value for k in call.keywords
                                                                  if k.arg in DECLARED}
        spec = {}
        for key, value in named.items():
            try:
                spec[key] = ast.literal_eval(value)
            except ValueError:
                raise RubricError(f"{where}: {key} must be a literal (the rubric is read, not run)") from None
        found.append((node.name, spec))
    return found


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
    return Entry(test_id, part, title, float(points), visibility, hint, number)


def _is_value(v: object) -> bool:
    return isinstance(v, (int, float)) or (isinstance(v, list) and all(isinstance(x, int) for x in v))


def _figure_thresholds(tables: dict, name: str) -> dict[str, dict]:
    """[figures.<check>]: numbers (or lists of integers), and inline tables of the same keyed by figure id."""
    for check, table in tables.items():
        where = f"{name} [figures.{check}]"
        if not isinstance(table, dict):
            raise RubricError(f"{where}: expected a table of thresholds")
        for key, value in table.items():
            if isinstance(value, dict):
                bad = [k for k, v in value.items() if k not in table or not _is_value(v)]
                if bad:
                    raise RubricError(f"{where} {key}: overrides {bad} are not thresholds of this check")
            elif not _is_value(value):
                raise RubricError(f"{where}: {key} must be a number")
    return tables
