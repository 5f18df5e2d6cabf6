"""Reading and checking rubric.toml (points, visibility, titles, hints of the catalog, and the
thresholds of the figure checks)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

RUBRIC_PATH = Path(__file__).resolve().parent / "rubric.toml"
VISIBILITIES = ("visible", "hidden", "after_published")


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


def load_rubric(path: Path = RUBRIC_PATH) -> Rubric:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    parts = data.pop("parts", {})
    if not parts:
        raise RubricError(f"{path.name}: no [parts] table")
    figures = _figure_thresholds(data.pop("figures", {}), path.name)
    counters = dict.fromkeys(parts, 0)
    entries = {}
    for test_id, spec in data.items():
        where = f"{path.name} [{test_id}]"
        if not test_id.startswith("test_"):
            raise RubricError(f"{where}: tables are named after test functions (test_...)")
        unknown = set(spec) - {"part", "title", "points", "visibility", "hint"}
        if unknown:
            raise RubricError(f"{where}: unknown keys {sorted(unknown)}")
        part = spec.get("part")
        if part not in parts:
            raise RubricError(f"{where}: part {part!r} is not one of {list(parts)}")
        points = spec.get("points")
        if not isinstance(points, (int, float)) or points < 0:
            raise RubricError(f"{where}: points must be a number >= 0")
        visibility = spec.get("visibility", "visible")
        if visibility not in VISIBILITIES:
            raise RubricError(f"{where}: visibility must be one of {VISIBILITIES}")
        if not spec.get("title"):
            raise RubricError(f"{where}: a title is required")
        counters[part] += 1
        number = f"{list(parts).index(part) + 1}.{counters[part]}"
        entries[test_id] = Entry(test_id, part, spec["title"], float(points), visibility, spec.get("hint"), number)
    return Rubric(dict(parts), entries, figures)


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
