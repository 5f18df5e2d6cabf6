"""The rubric is declared once, beside each test: the docs' numbers are written from it, and a TA
adds a graded test by editing one file (the example of docs/grader.md, tried in a copy of the
project: graded, reported, counted in the regenerated docs, and run in the students' self-check)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.rubric import Rubric, load_rubric
from tests.grader_fixtures.grading import ROOT, validate, workdir
from tools import self_check

NEW = "test_linear_schedule_endpoints"
TITLE = "linear_beta_schedule starts at beta_start and ends at beta_end"


def _example() -> str:
    """The example of docs/grader.md, "Adding a test": the lines a TA adds to one catalog file."""
    doc = (ROOT / "docs" / "grader.md").read_text()
    found = re.search(r"```python\n# grader/catalog/test_3_schedules.py\n(.*?)```", doc, re.S)
    assert found, "docs/grader.md lost its example of a new test"
    return found.group(1)


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_docs_show_the_rubric_s_numbers() -> None:
    proc = _run(ROOT, "tools/rubric_docs.py", "--check")
    assert proc.returncode == 0, proc.stderr


def test_a_ta_adds_a_graded_test_by_editing_one_file() -> None:
    before = load_rubric()
    part = [e for e in before.entries.values() if e.part == "schedules"]
    copy = workdir("ta-adds-a-test") / "project"
    for folder in ("grader", "solution", "tools", "docs", "assets"):
        shutil.copytree(ROOT / folder, copy / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "quick-deliverables"))
    shutil.copytree(ROOT / "student" / "public_tests", copy / "student" / "public_tests",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("README.md", "student/README.md"):
        shutil.copy(ROOT / name, copy / name)
    example = _example()
    assert len(example.splitlines()) <= 12
    catalog_file = copy / "grader" / "catalog" / "test_3_schedules.py"
    catalog_file.write_text(catalog_file.read_text() + "\n\n" + example)  # the one file edited

    stale = _run(copy, "tools/rubric_docs.py", "--check")
    assert stale.returncode == 1  # the docs' tables and the self-check are now stale
    assert "docs/grader.md" in stale.stderr and "test_public_schedules.py" in stale.stderr

    graded = _run(copy, "-m", "grader", "solution", "--tests", "schedules", "--out", "out", "--device", "cpu")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    results = json.loads((copy / "out" / "results.json").read_text())
    validate(results)
    test = next(t for t in results["tests"] if t["extra_data"]["id"] == NEW)
    number = f"3.{len(part) + 1}"
    assert (test["max_score"], test["score"], test["visibility"]) == (2, 2, "visible")
    assert (test["number"], test["name"]) == (number, TITLE)
    assert results["score"] == sum(e.points for e in part) + 2  # the part's points and the new 2
    for report in ("report.md", "report.html"):
        assert TITLE in (copy / "out" / report).read_text()

    assert _run(copy, "tools/rubric_docs.py").returncode == 0
    grader_md = (copy / "docs" / "grader.md").read_text()
    total = before.max_score + 2
    visible = sum(e.visibility == "visible" for e in part) + 1
    assert (f"| {before.parts['schedules']} | {len(part) + 1} | {sum(e.points for e in part) + 2:g} | "
            f"{visible} |") in grader_md
    assert f"| **total** | {len(before.entries) + 1} | **{total:g}** |" in grader_md
    assert f"<!-- rubric:total -->{total:g}<!-- /rubric:total -->" in (copy / "docs" / "gradescope.md").read_text()

    # Public: it is in the students' self-check, with its points and the grader test it covers, and passes there.
    self_check = (copy / "student" / "public_tests" / "test_public_schedules.py").read_text()
    assert ('@pytest.mark.points(1)\n@pytest.mark.covers("test_linear_schedule_endpoints")\n'
            "def test_linear_schedule_endpoints(hw):") in self_check
    covers = json.loads((copy / "student" / "public_tests" / "covers.json").read_text())
    assert covers[NEW] == {"number": number, "title": TITLE, "points": 2}
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_public_schedules.py"],
                         cwd=copy / "student" / "public_tests", capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HW_PACKAGE": str(copy / "solution")})
    assert ran.returncode == 0 and f"{len(re.findall('@pytest.mark.points', self_check))} passed" in ran.stdout, \
        ran.stdout + ran.stderr


def _declare(tmp_path: Path, body: str) -> SystemExit | list:
    """self_check.declared on a one-file catalog holding `body`: its checks, or the SystemExit it raised."""
    (tmp_path / "test_1_unet.py").write_text(body)
    try:
        return self_check.declared(Rubric({"unet": "1. UNet"}, {}), catalog=tmp_path)
    except SystemExit as exc:
        return exc


def test_a_self_check_may_use_only_what_a_student_has(tmp_path: Path) -> None:
    ok = _declare(tmp_path, "@self_check('test_x', points=1)\ndef public_shape(hw, kit):\n"
                            "    y = [v for v in kit.images(2)]\n    assert torch.isfinite(y[0]).all()\n")
    assert [(c.name, c.covers, c.points) for c in ok] == [("test_shape", ("test_x",), 1)]
    assert ok[0].source.startswith("def test_shape(hw, kit):")
    uses_grader = _declare(tmp_path, "@self_check(points=1)\ndef public_value(hw):\n"
                                     "    assert ref.linear_betas(1e-4, 0.02, 10) is not None\n")
    assert "test_1_unet.py:2: public_value uses ref" in str(uses_grader)
    foreign_fixture = _declare(tmp_path, "@self_check(points=1)\ndef public_value(student):\n    pass\n")
    assert "uses student" in str(foreign_fixture)
    misnamed = _declare(tmp_path, "@self_check(points=1)\ndef test_value(hw):\n    pass\n")
    assert "a self-check is a function named public_" in str(misnamed)
    no_points = _declare(tmp_path, "@self_check('test_x')\ndef public_value(hw):\n    pass\n")
    assert "points=<number > 0>" in str(no_points)


def test_a_self_check_covers_only_visible_tests(tmp_path: Path) -> None:
    rubric = load_rubric()
    hidden = next(e for e in rubric.entries.values() if e.visibility != "visible")
    catalog = tmp_path / "catalog"
    shutil.copytree(ROOT / "grader" / "catalog", catalog, ignore=shutil.ignore_patterns("__pycache__"))
    file = next(catalog.glob("test_1_*.py"))
    file.write_text(file.read_text() + f"\n\n@self_check({hidden.id!r}, points=1)\ndef public_peek(hw):\n    pass\n")
    with pytest.raises(SystemExit, match=f"covers {hidden.id}: not a visible test"):
        self_check.render(rubric, catalog=catalog)
