"""The reference's quick-profile deliverables (tools/deliverables_cache.py), one test per training
run so that the suite's workers train them side by side at the start; test_grader_figures grades
them. On a clean checkout every run here is a fresh one: what the figure tests pass is what
`make deliverables PROFILE=quick` makes from this checkout's code."""

from __future__ import annotations

import json

import pytest

from solution.config import get_runs
from solution.manifest import FIGURES
from tools import deliverables_cache

PART1 = ("denoiser", "purenoise")


def _runs(unit: str) -> tuple[str, ...]:
    return PART1 if unit == "part1" else (unit,)


def test_the_units_cover_every_run_and_figure() -> None:
    runs = [r for u in deliverables_cache.UNITS for r in _runs(u)]
    assert sorted(runs) == sorted(get_runs("quick"))
    # Figures of no run (the noising grid, the schedules plot) are drawn by the part1 unit.
    assert {f.get("run") for f in FIGURES} - set(runs) == {None}


def test_the_key_changes_with_the_code(tmp_path, monkeypatch) -> None:
    before = deliverables_cache.cache_key()
    fake = tmp_path / "solution"
    fake.mkdir()
    for p in (deliverables_cache.ROOT / "solution").glob("*.py"):
        (fake / p.name).write_text(p.read_text())
    (fake / "config.py").write_text((fake / "config.py").read_text() + "\n# changed\n")
    monkeypatch.setattr(deliverables_cache, "ROOT", tmp_path)
    assert deliverables_cache.cache_key() != before


@pytest.mark.slow
@pytest.mark.deliverables_unit
@pytest.mark.parametrize("unit", deliverables_cache.UNITS)
def test_unit_writes_its_figures_and_losses(unit: str) -> None:
    out = deliverables_cache.ensure(unit)
    runs = _runs(unit)
    for f in FIGURES:
        if f.get("run") in runs or (unit == "part1" and f.get("run") is None):
            assert (out / "figures" / f["file"]).stat().st_size > 0, f["file"]
    for run in runs:
        log = json.loads((out / "losses" / f"{run}.json").read_text())
        assert log["losses"] and all(v == v for v in log["losses"]), run  # a finite, non-empty log
    timings = json.loads((out / "units" / f"{unit}.json").read_text())
    assert all(f"train {r}" in timings for r in runs)
