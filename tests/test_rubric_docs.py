"""The rubric is declared once, beside each test: the docs' numbers are written from it, and a TA
adds a graded test by editing one file (the example of docs/grader.md, tried in a copy of the
project: graded, reported, and counted in the regenerated docs)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.grader_fixtures.grading import ROOT, validate, workdir

NEW = "test_linear_schedule_endpoints"


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
    assert stale.returncode == 1 and "docs/grader.md" in stale.stderr  # the docs' tables are now stale

    graded = _run(copy, "-m", "grader", "solution", "--tests", "schedules", "--out", "out", "--device", "cpu")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    results = json.loads((copy / "out" / "results.json").read_text())
    validate(results)
    test = next(t for t in results["tests"] if t["extra_data"]["id"] == NEW)
    assert (test["max_score"], test["score"], test["visibility"]) == (2, 2, "visible")
    assert (test["number"], test["name"]) == ("3.6", "linear_beta_schedule starts at beta_start and ends at beta_end")
    assert results["score"] == 14  # the part's 12 points and the new 2
    for report in ("report.md", "report.html"):
        assert "linear_beta_schedule starts at beta_start and ends at beta_end" in (copy / "out" / report).read_text()

    assert _run(copy, "tools/rubric_docs.py").returncode == 0
    grader_md = (copy / "docs" / "grader.md").read_text()
    assert "| 3. Variance schedules | 6 | 14 | 5 | 1 | 0 |" in grader_md
    assert "| **total** | 73 | **137** |" in grader_md
    assert "<!-- rubric:total -->137<!-- /rubric:total -->" in (copy / "docs" / "gradescope.md").read_text()
