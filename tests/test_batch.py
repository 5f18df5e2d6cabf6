"""Whole-class grading (python -m grader.batch): one row per submission whatever it does, broken and
hostile ones included; reruns skip what is already graded; grades.csv and index.html."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch import collect, find_submissions, grade_one, render_index, total_time
from grader.rubric import load_rubric
from tests.grader_fixtures.grading import ROOT
from tests.grader_fixtures.hostile import INTERP
from tests.grader_fixtures.mutants import MUTANTS

TESTS = "schedules,q_sample"  # two cheap parts: a grade takes seconds
MAX = sum(e.points for e in load_rubric().entries.values() if e.selected(TESTS))
LIMIT = 30  # seconds a grade may take in the batch: its total time is 20 s (total_time), the rest a margin
HANG = "import time\ntime.sleep(1000)\n"  # at import: past the grade's total time
EXIT = "import os\nos._exit(3)\n"  # kills the sandbox worker, not the grader


def _batch(subs: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grader.batch", str(subs), "--out", str(out), "--jobs", "2", "--tests", TESTS,
           "--device", "cpu", "--timeout", "300", "--limit", str(LIMIT), *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _run_at_import(folder: Path, file: str, code: str) -> None:
    path = folder / file
    path.write_text(path.read_text() + "\n" + code)  # at the end: `from __future__` must stay first


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    tmp = tmp_path_factory.mktemp("batch")
    subs = tmp / "class"
    subs.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "solution", subs / "reference", ignore=ignore)
    shutil.copytree(ROOT / "skeleton", subs / "skeleton", ignore=ignore)
    mutant = next(m for m in MUTANTS if m.name == "cumsum_not_cumprod").variant().build(tmp / "variants")
    shutil.make_archive(str(subs / "mutant cumsum"), "zip", mutant.parent, mutant.name)  # id: mutant_cumsum
    (subs / "broken.ipynb").write_text("{ this is not json")
    shutil.copytree(ROOT / "solution", subs / "hangs", ignore=ignore)
    _run_at_import(subs / "hangs", "schedules.py", HANG)
    shutil.copytree(ROOT / "solution", subs / "exits", ignore=ignore)
    _run_at_import(subs / "exits", "schedules.py", EXIT)
    (subs / "notes.txt").write_text("not a submission")
    (subs / ".DS_Store").write_text("")
    out = tmp / "out"
    return subs, out, _batch(subs, out)


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv") as f:
        return {r["submission"]: r for r in csv.DictReader(f)}


def test_every_submission_has_a_row(batch: tuple[Path, Path, subprocess.CompletedProcess]) -> None:
    _, out, proc = batch
    assert proc.returncode == 0, proc.stderr
    rows = _rows(out)
    assert sorted(rows) == ["broken", "exits", "hangs", "mutant_cumsum", "reference", "skeleton"]
    assert "ignored notes.txt" in proc.stderr and "DS_Store" not in proc.stderr
    header = next(csv.reader(open(out / "grades.csv")))
    assert header[:4] == ["submission", "status", "score", "max_score"] and header[-1] == "reason"
    # One column per test the results.json files hold (the selected ones), in their order.
    assert header[4:-1] == [e.id for e in load_rubric().entries.values() if e.selected(TESTS)]


def test_reference_full_skeleton_zero_mutant_loses(batch: tuple[Path, Path, subprocess.CompletedProcess]) -> None:
    rows = _rows(batch[1])
    assert rows["reference"]["status"] == "graded" and float(rows["reference"]["score"]) == MAX
    assert float(rows["reference"]["max_score"]) == MAX and "test_unconditional_unet_shape" not in rows["reference"]
    assert rows["skeleton"]["status"] == "graded" and float(rows["skeleton"]["score"]) == 0
    assert rows["mutant_cumsum"]["test_ddpm_schedule"] == "0" and 0 < float(rows["mutant_cumsum"]["score"]) < MAX
    for sid in rows:
        assert (batch[1] / sid / "batch.json").is_file()


def test_broken_and_hostile_submissions_do_not_stop_the_batch(
    batch: tuple[Path, Path, subprocess.CompletedProcess],
) -> None:
    rows = _rows(batch[1])
    assert rows["broken"]["status"] == "graded" and float(rows["broken"]["score"]) == 0  # the grader's own verdict
    assert rows["exits"]["status"] == "graded" and float(rows["exits"]["score"]) < MAX
    # A submission that hangs is stopped by its grade's own total time, within the batch's limit: a
    # complete grade of 0 whose tests say why, not an error row.
    hangs = rows["hangs"]
    assert hangs["status"] == "graded" and float(hangs["score"]) == 0 and float(hangs["max_score"]) == MAX
    results = json.loads((batch[1] / "hangs" / "results.json").read_text())
    assert all(f"total time limit of {total_time(LIMIT):g} s" in t["output"] for t in results["tests"]), results
    assert json.loads((batch[1] / "hangs" / "batch.json").read_text())["seconds"] < LIMIT


def test_index_links_every_report(batch: tuple[Path, Path, subprocess.CompletedProcess]) -> None:
    out = batch[1]
    html = (out / "index.html").read_text()
    assert 'href="reference/report.html"' in html and 'href="hangs/report.html"' in html
    assert "6 submissions" in html and "0 errors" in html and "<script>" in html and "http" not in html
    assert (out / "reference" / "report.html").is_file()


def test_rerun_skips_what_is_graded(batch: tuple[Path, Path, subprocess.CompletedProcess]) -> None:
    subs, out, _ = batch
    shutil.rmtree(subs / "hangs")  # left out: the rows left must all be skipped
    stamp = {sid: (out / sid / "results.json").stat().st_mtime_ns for sid in ("reference", "skeleton")}
    proc = _batch(subs, out)
    assert proc.returncode == 0, proc.stderr
    assert "5 submissions, 5 skipped" in proc.stderr and "0 to grade" in proc.stderr
    assert all((out / sid / "results.json").stat().st_mtime_ns == t for sid, t in stamp.items())
    meta = json.loads((out / "reference" / "batch.json").read_text())
    (out / "reference" / "batch.json").write_text(json.dumps(meta | {"version": "an older grader"}))
    proc = _batch(subs, out)
    assert "5 submissions, 4 skipped" in proc.stderr and "1 to grade" in proc.stderr
    assert (out / "reference" / "results.json").stat().st_mtime_ns > stamp["reference"]
    assert (out / "skeleton" / "results.json").stat().st_mtime_ns == stamp["skeleton"]
    assert sorted(_rows(out)) == ["broken", "exits", "mutant_cumsum", "reference", "skeleton"]


def test_a_grader_past_the_batch_limit_is_killed_with_an_error_row(
    batch: tuple[Path, Path, subprocess.CompletedProcess], tmp_path: Path,
) -> None:
    """The backstop: a grader still running at --limit (here its total time set past the limit) is
    killed, leaves no results.json, and gets an error row that links its log."""
    subs, _, _ = batch
    sub = next(s for s in find_submissions(subs)[0] if s.id == "exits")
    hang = tmp_path / "hangs"
    shutil.copytree(subs / "exits", hang)
    _run_at_import(hang, "schedules.py", HANG)
    sub = type(sub)("hangs", hang)
    args = ["--tests", TESTS, "--device", "cpu", "--timeout", "300", "--total-time", "1000"]
    meta = grade_one(sub, tmp_path / "out", "v", args, limit=8)
    assert meta["status"] == "error" and "killed after the batch's limit of 8 s" in meta["reason"]
    assert not (tmp_path / "out" / "hangs" / "results.json").exists()
    row = collect(sub, tmp_path / "out", load_rubric(), TESTS)
    assert 'href="hangs/grader.log"' in render_index([row], load_rubric(), "v", TESTS)


def test_ids_are_unique_and_safe(tmp_path: Path) -> None:
    for name in ("a b", "a b.zip", "A_B.ipynb", "grades.csv.zip", "ünï.ipynb"):
        (tmp_path / name).mkdir() if "." not in name else (tmp_path / name).write_text("")
    (tmp_path / "readme.md").write_text("")
    subs, notes = find_submissions(tmp_path)
    ids = [s.id for s in subs]
    assert ids == ["A_B", "a_b-2", "a_b-3", "grades.csv-2", "n"]
    assert notes == ["ignored readme.md: not a folder, .zip or .ipynb"]


# On its first call, for 8 s, fm_interpolate looks in /tmp for another grading's staged submission and
# reads it; it answers right only if it found one.
SPY = """
_FOUND = []


def _other_stage():
    if _FOUND:
        return _FOUND[0]
    _FOUND.append(_search())
    return _FOUND[0]


def _search():
    import glob, os, time
    mine = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for _ in range(80):
        for stage in glob.glob('/tmp/grader-*') + glob.glob('/tmp/*/grader-*'):
            if os.path.abspath(stage) != os.path.dirname(mine):
                for path in glob.glob(stage + '/src/submission/*.py'):
                    try:
                        return bool(open(path).read())
                    except OSError:
                        pass
        time.sleep(0.1)
    return False
"""


def test_gradings_of_a_parallel_batch_cannot_read_each_other(tmp_path: Path) -> None:
    """Two submissions graded at once, each looking for the other's staged code: neither finds it (each
    worker's root holds its own stage only), so each loses exactly the tests its spy answers."""
    subs = tmp_path / "class"
    for name in ("spy_a", "spy_b"):
        shutil.copytree(ROOT / "solution", subs / name, ignore=shutil.ignore_patterns("__pycache__"))
        flow = subs / name / "flow.py"
        text = flow.read_text()
        flow.write_text(text.replace(INTERP, "    if not _other_stage():\n        return x0\n" + INTERP, 1) + SPY)
    cmd = [sys.executable, "-m", "grader.batch", str(subs), "--out", str(tmp_path / "out"), "--jobs", "2",
           "--tests", "test_fm_interpolate", "--device", "cpu", "--timeout", "60", "--limit", "120"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = _rows(tmp_path / "out")
    for name in ("spy_a", "spy_b"):
        assert rows[name]["status"] == "graded" and rows[name]["test_fm_interpolate"] == "0", rows[name]
