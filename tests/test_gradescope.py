"""Gradescope's autograder (docs/gradescope.md): the zip of tools/make_gradescope.py, laid out as
Gradescope does in a temporary root, installed with its setup.sh (a real pip install, once) and
run with its run_autograder on the reference, the skeleton, each upload form, a hostile
submission and a broken installation. Every results.json is validated against Gradescope's schema.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.submission import load_submission
from grader.submission.deliverables import none_found
from tests.grader_fixtures.grading import CODE_MAX, FIGURE_TESTS, graded, validate
from tests.grader_fixtures.hostile import Hostile, _cheat_interp
from tests.grader_fixtures.variants import FLOW, ROOT, SOLUTION
from tools.bench import verdicts
from tools.make_gradescope import SCRIPTS, build

pytestmark = pytest.mark.slow
IS_ROOT = os.geteuid() == 0
DATA_ROOT = (ROOT / os.environ.get("DATA_ROOT", "data")).resolve()


def _unpack(archive: Path, dest: Path) -> None:
    """As Gradescope does: the zip's content becomes the source folder, Unix modes kept."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            zf.extract(info, dest)
            os.chmod(dest / info.filename, (info.external_attr >> 16) & 0o777)


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return env | {"AUTOGRADER_ROOT": str(root), "DATA_ROOT": str(DATA_ROOT)} | extra


@dataclass
class Run:
    proc: subprocess.CompletedProcess
    results: dict
    report: str  # report.md, where the grader says how the sandbox ran

    def by_id(self) -> dict[str, dict]:
        return {t["extra_data"]["id"]: t for t in self.results["tests"]}

    def failed(self) -> set[str]:
        return {k for k, t in self.by_id().items() if t["status"] == "failed" and k not in FIGURE_TESTS}


class Layout:
    """$ROOT/{source,submission,results} and $ROOT/run_autograder, as on Gradescope."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def grade(self, files: dict[str, Path], tests: str = "all") -> Run:
        """Put `files` (name -> file or folder) into the submission folder and run run_autograder."""
        for name in ("submission", "results"):
            shutil.rmtree(self.root / name, ignore_errors=True)
        sub = self.root / "submission"
        sub.mkdir()
        for name, src in files.items():
            (shutil.copytree if src.is_dir() else shutil.copy)(src, sub / name)
        proc = subprocess.run([str(self.root / "run_autograder")], env=_env(self.root, GRADER_TESTS=tests),
                              capture_output=True, text=True, timeout=600)
        path = self.root / "results" / "results.json"
        assert path.exists(), proc.stderr
        results = json.loads(path.read_text())
        validate(results)
        report = self.root / "results" / "report.md"
        return Run(proc, results, report.read_text() if report.exists() else "")


@pytest.fixture(scope="module")
def layout() -> Iterator[Layout]:
    if not (DATA_ROOT / "MNIST" / "raw").is_dir():
        pytest.fail(f"MNIST not found under {DATA_ROOT}/MNIST/raw: set DATA_ROOT")
    # Not under pytest's tmp_path, whose parents are closed to other users: the hostile case
    # must find the source reachable but for the grader's hiding.
    root = Path(tempfile.mkdtemp(prefix="gradescope-", dir="/tmp"))
    os.chmod(root, 0o755)
    try:
        _unpack(build(root / "autograder.zip"), root / "source")
        shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
        setup = subprocess.run([str(root / "source" / "setup.sh")], capture_output=True, text=True, timeout=900,
                               env=_env(root, PYTHON=os.path.realpath(sys.executable)))
        assert setup.returncode == 0, setup.stdout + setup.stderr
        yield Layout(root)
    finally:  # the venv holds gigabytes: removed in the background rather than waited for
        subprocess.Popen(["rm", "-rf", str(root)], start_new_session=True)


def _modules(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.glob("*.py"))}


# -- the zip --------------------------------------------------------------------------------


def test_zip_is_deterministic_and_complete(tmp_path: Path) -> None:
    first, second = build(tmp_path / "a.zip"), build(tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        requirements = zf.read("requirements.txt").decode()
    assert list(infos) == sorted(infos)
    for name in SCRIPTS:  # at the top, executable
        assert (infos[name].external_attr >> 16) & 0o777 == 0o755
    assert {"grader/__main__.py", "grader/rubric.toml", "grader/catalog/test_8_flow.py",
            "assets/classifier.pt", "assets/deliverables.json"} <= set(infos)
    assert not any(n.split("/")[0] in ("solution", "skeleton", "tests", "notebooks") or "__pycache__" in n
                   for n in infos)
    pins = {line.split("==")[0] for line in requirements.split()}
    assert {"torch", "torchvision", "numpy", "pillow", "pytest", "nbformat"} <= pins
    assert not pins & {"ruff", "selenium", "ipykernel"}


def test_loader_opens_a_zip_alone_in_a_folder(tmp_path: Path) -> None:
    """Gradescope's submission folder may hold just the uploaded zip; figures/ beside it count."""
    with zipfile.ZipFile(tmp_path / "hw.zip", "w") as zf:
        for name, path in _modules(SOLUTION).items():
            zf.write(path, f"hw/{name}")
    sub = load_submission(tmp_path)
    assert sub.rejected is None and {"flow.py", "unet.py"} <= set(sub.files)
    assert "unpacked hw.zip" in sub.notes


# -- graded through setup.sh and run_autograder -----------------------------------------------


def test_reference_gets_full_marks_on_the_code(layout: Layout) -> None:
    run = layout.grade(_modules(SOLUTION))
    assert run.proc.returncode == 0, run.proc.stderr
    assert not run.failed(), {t: run.by_id()[t]["output"][:300] for t in run.failed()}
    assert run.results["score"] == CODE_MAX
    assert all(run.by_id()[t]["score"] == 0 for t in FIGURE_TESTS)  # no figures/ uploaded
    assert (layout.root / "results" / "report.html").exists()
    # Determinism: this grading and the command's own grading of the reference (another process, another
    # installation, another entry point) agree on every code test's score, status and message, training included.
    code = [v for v in verdicts(run.results) if v[0] not in FIGURE_TESTS]
    assert code == [v for v in verdicts(graded("solution").results) if v[0] not in FIGURE_TESTS]
    # Gradescope's run speaks to the student (what to upload), and marks no test hidden: the total shows.
    assert all(none_found("student") in run.by_id()[t]["output"] for t in FIGURE_TESTS)
    assert all(t["visibility"] != "hidden" for t in run.results["tests"]) and run.results["output_format"] == "md"


def test_skeleton_scores_zero(layout: Layout) -> None:
    run = layout.grade(_modules(ROOT / "skeleton"), tests="noising,schedules,flow")
    assert run.proc.returncode == 0, run.proc.stderr
    assert run.results["score"] == 0
    assert run.results["tests"] and all(t["status"] == "failed" for t in run.results["tests"])


def test_a_course_dialect_is_detected_or_fixed_by_the_zip(layout: Layout) -> None:
    """FAU ADL work is graded in its own API on Gradescope too; an autograder built with
    `make gradescope DIALECT=...` (its DIALECT file) grades every submission as that dialect."""
    files = {p.name: p for p in sorted((ROOT / "tests" / "dialects" / "adl_ex02" / "reference").glob("*.py"))}
    run = layout.grade(files, tests="schedules")
    assert run.proc.returncode == 0, run.proc.stderr
    assert run.results["extra_data"]["dialect"] == "adl-ex02" and run.results["score"] == 7 and not run.failed()
    fixed = layout.root / "source" / "DIALECT"
    fixed.write_text("contract\n")
    try:
        run = layout.grade(files, tests="schedules")
    finally:
        fixed.unlink()
    assert run.results["extra_data"]["dialect"] == "contract" and run.results["score"] == 0


def test_the_zip_names_its_dialect_only_when_asked(tmp_path: Path) -> None:
    with zipfile.ZipFile(build(tmp_path / "plain.zip")) as zf:
        assert "DIALECT" not in zf.namelist()
    with zipfile.ZipFile(build(tmp_path / "adl.zip", dialect="adl-ex02")) as zf:
        assert zf.read("DIALECT") == b"adl-ex02\n"
    from grader.dialects import DialectError

    with pytest.raises(DialectError, match="not graded yet"):
        build(tmp_path / "figures.zip", dialect="figures-only")


@pytest.mark.parametrize("form", ["zip", "notebook"])
def test_each_upload_form_is_graded(layout: Layout, form: str, tmp_path: Path) -> None:
    if form == "zip":
        upload = tmp_path / "hw.zip"
        with zipfile.ZipFile(upload, "w") as zf:
            for name, path in _modules(SOLUTION).items():
                zf.write(path, name)
    else:
        upload = ROOT / "notebooks" / "solution.ipynb"
    run = layout.grade({upload.name: upload}, tests="flow")
    assert run.proc.returncode == 0, run.proc.stderr
    assert set(run.by_id()) == set(FLOW) and not run.failed(), run.results["output"]


@pytest.mark.skipif(not IS_ROOT, reason="only a grader running as root hides its files (docs/grader.md)")
def test_hostile_submission_cannot_read_the_grader_nor_write_the_results(layout: Layout, tmp_path: Path) -> None:
    """fm_interpolate answers right only if one of its reads or its write succeeded."""
    source, results = layout.root / "source", layout.root / "results" / "results.json"
    secrets = [source / "grader" / "catalog" / "test_8_flow.py", source / "grader" / "checks" / "reference.py",
               source / "assets" / "classifier.json"]
    attack = (f"        got = []\n        for p in {[str(p) for p in secrets]!r}:\n"
              "            try:\n                got.append(bool(open(p).read()))\n"
              "            except OSError:\n                pass\n"
              f"        try:\n            with open({str(results)!r}, 'w') as f:\n"
              "                f.write('{\"score\": 1000, \"tests\": []}')\n            got.append(True)\n"
              "        except OSError:\n            pass\n        OK = any(got)")
    interp = {"test_fm_interpolate", "test_fm_forward_loss", "test_fm_forward_unet_inputs",
              "test_flow_matching_wrapper"}
    hostile = Hostile("gradescope_reads", "reads the hidden tests, writes results.json", (_cheat_interp(attack),),
                      frozenset(interp), "expected", needs_root=True)
    run = layout.grade(_modules(hostile.variant().build(tmp_path)), tests="flow")
    assert run.proc.returncode == 0, run.proc.stderr
    assert run.failed() == interp
    assert all("expected" in run.by_id()[t]["output"] for t in interp)
    # The results are the grader's own, and the worker's filesystem was the allowlist.
    assert results.read_text() == (source / "build" / "grade" / "results.json").read_text()
    assert "allowlist:" in run.report, run.report


def test_a_broken_installation_still_leaves_a_results_json(tmp_path: Path) -> None:
    """No venv (setup.sh never ran): score 0 and a line saying so, in a valid results.json."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy2(ROOT / "gradescope" / "run_autograder", root / "run_autograder")
    proc = subprocess.run([str(root / "run_autograder")], env=_env(root), capture_output=True, text=True, timeout=60)
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    assert results["score"] == 0 and "not set up" in results["output"], proc.stderr
    assert stat.S_IMODE((root / "results").stat().st_mode) & 0o022 == 0
