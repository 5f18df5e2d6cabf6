"""The student release (dist/student.zip): exactly the allowed files, no solution code, no hidden
test, no golden value, and a self-check that runs on the unpacked skeleton (0 points, TODO
messages), gives full marks to the reference and takes off exactly the points of a broken function."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.rubric import load_rubric
from tests.grader_fixtures.grading import graded
from tools.make_skeleton import BEGIN, END, MORE
from tools.make_student import PACKAGE, TOP, build

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_TESTS = sorted(p.name for p in (ROOT / "student" / "public_tests").glob("*.py"))
EXPECTED = {
    f"{TOP}/{name}"
    for name in (
        "README.md",
        "Makefile",
        "requirements.txt",
        "check.py",
        "submit.py",
        "assignment.ipynb",
        "public_tests/pytest.ini",
        "public_tests/covers.json",
        *(f"public_tests/{name}" for name in PUBLIC_TESTS),
        *(f"{PACKAGE}/{p.name}" for p in (ROOT / "skeleton").glob("*.py")),
    )
}
MIN_LINE = 20  # shorter lines ("return x", "else:") are too common to mean anything
BOILERPLATE = ("#", "from ", "import ", "with ", "@")  # "with torch.no_grad():" tells nothing


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip, built and unpacked; returns the unpacked top folder."""
    tmp = tmp_path_factory.mktemp("student")
    archive = build(tmp / "student.zip")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp / "unpacked")
    return tmp / "unpacked" / TOP


def texts(top: Path) -> dict[str, str]:
    """Every file of the release as text; a notebook as its cells' sources."""
    out = {}
    for path in sorted(top.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text()
        if path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells)
        out[str(path.relative_to(top))] = text
    return out


def significant(lines: list[str], allowed: str = "") -> set[str]:
    """The lines worth looking for: long enough, not comments or boilerplate, not part of the allowed text."""
    keep = {line.strip() for line in lines}
    return {line for line in keep if len(line) >= MIN_LINE and not line.startswith(BOILERPLATE) and line not in allowed}


def skeleton_text() -> str:
    """All of skeleton/, with the stubs' wrapped TODO strings joined again: text students may see."""
    text = "\n".join(p.read_text() for p in sorted((ROOT / "skeleton").glob("*.py")))
    return re.sub(r"""(['"])\s*\n\s*(['"])""", "", text)


def solution_region_lines() -> dict[str, list[str]]:
    """file name -> lines inside its BEGIN SOLUTION ... END SOLUTION regions (markers excluded)."""
    regions: dict[str, list[str]] = {}
    for path in sorted((ROOT / "solution").glob("*.py")):
        inside, body = False, []
        for line in path.read_text().splitlines():
            if BEGIN.match(line):
                inside = True
            elif END.match(line):
                inside = False
            elif inside and not MORE.match(line):
                body.append(line)
        if body:
            regions[path.name] = body
    return regions


def run_check(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "check.py", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def score(output: str) -> tuple[float, float]:
    found = re.search(r"self-check: score ([\d.]+)/([\d.]+)", output)
    assert found, output
    return float(found[1]), float(found[2])


def test_release_holds_exactly_the_allowed_files(release: Path) -> None:
    names = {str(p.relative_to(release.parent)) for p in release.rglob("*") if p.is_file()}
    assert names == EXPECTED
    assert {p.name for p in (release / PACKAGE).iterdir()} == {p.name for p in (ROOT / "skeleton").glob("*.py")}


def test_release_is_reproducible(release: Path, tmp_path: Path) -> None:
    assert build(tmp_path / "a.zip").read_bytes() == build(tmp_path / "b.zip").read_bytes()


def solution_leaks(top: Path) -> list[str]:
    """"file: line" for every significant line of a solution region found in a file under top."""
    allowed = skeleton_text()  # hints and docstrings outside the regions may repeat a line
    lines = {line for body in solution_region_lines().values() for line in significant(body, allowed)}
    return [f"{where}: {line}" for where, text in texts(top).items() for line in sorted(lines) if line in text]


def test_no_solution_code(release: Path) -> None:
    assert sum(len(v) for v in solution_region_lines().values()) > 100  # the parser found the regions
    leaks = solution_leaks(release)
    assert not leaks, "solution lines found in the release:\n" + "\n".join(leaks)


def test_the_leak_check_sees_solution_code(release: Path, tmp_path: Path) -> None:
    """Guards the check above against passing vacuously: with the reference in hw/, every module leaks."""
    shutil.copytree(release, tmp_path / TOP)
    for module in ("unet", "schedules", "diffusion", "flow", "train"):
        shutil.copy(ROOT / "solution" / f"{module}.py", tmp_path / TOP / PACKAGE / f"{module}.py")
    leaks = solution_leaks(tmp_path / TOP)
    assert {leak.split(":")[0] for leak in leaks} == {
        f"{PACKAGE}/{m}.py" for m in ("unet", "schedules", "diffusion", "flow", "train")
    }


def test_no_grader_or_hidden_test(release: Path) -> None:
    content = texts(release)
    ours = {p.name for p in release.rglob("*") if p.is_file()}
    for folder in ("grader", "tests"):
        theirs = [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        tests = {p.name for p in theirs if p.name.startswith("test_") or p.suffix == ".toml"}
        assert not ours & tests, f"a test file named like one of {folder}/"
        bodies = {p.read_bytes().strip() for p in theirs} - {b""}  # an empty __init__.py is no leak
        assert not [p for p in release.rglob("*") if p.is_file() and p.read_bytes().strip() in bodies]
    assert "reference.py" not in {p.name for p in release.rglob("*")}
    allowed = skeleton_text()
    rubric_text = (ROOT / "grader" / "rubric.toml").read_text().splitlines()
    reference = (ROOT / "grader" / "checks" / "reference.py").read_text().splitlines()
    for name, lines in (("rubric.toml", rubric_text), ("reference.py", reference)):
        for line in significant(lines, allowed):
            assert not [w for w, text in content.items() if line in text], f"a line of {name} in the release: {line}"
    hidden = [e.id for e in load_rubric().entries.values() if e.visibility in ("hidden", "after_published")]
    assert len(hidden) > 10
    for test_id in hidden:
        pattern = re.compile(rf"\b{re.escape(test_id)}\b")
        assert not [w for w, text in content.items() if pattern.search(text)], f"hidden test name {test_id}"
        entry = load_rubric().entries[test_id]  # nor what its declaration says (title, hint)
        for said in filter(None, (entry.title, entry.hint)):
            assert not [w for w, text in content.items() if said in text], f"the declaration of {test_id}: {said}"


def test_no_golden_values(release: Path) -> None:
    files = [p for p in release.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix not in (".py", ".ipynb", ".md", ".txt", ".ini", "")
                and p.name != "covers.json"]  # the grader tests the self-check covers: names and numbers
    assets = {p.read_bytes() for p in (ROOT / "assets").rglob("*") if p.is_file()}
    assert not [p for p in files if p.read_bytes() in assets]
    assert not (release / "assets").exists()


def test_self_check_on_the_unpacked_skeleton(release: Path) -> None:
    done = run_check([], release)
    assert done.returncode == 0, done.stdout + done.stderr
    got, total = score(done.stdout)
    assert got == 0 and total > 30
    todos = set(re.findall(r"TODO\((\w[\w.]*)\)", done.stdout))
    assert {"Conv.__init__", "add_noise", "q_sample", "p_sample", "ddpm_sample", "fm_interpolate"} <= todos
    assert "this is not your grade: the full grader runs more tests" in done.stdout
    # The grader's tests it covers, by the numbers of the grader's rubric (written into covers.json from the
    # declarations and the self-check's covers markers), none of them hidden.
    rubric = load_rubric().entries
    named = {n for p in (release / "public_tests").glob("test_public_*.py")
             for n in re.findall(r'covers\(([^)]*)\)', p.read_text()) for n in re.findall(r'"(\w+)"', n)}
    assert named and all(rubric[n].visibility == "visible" for n in named)
    covered = re.search(r"the contract side of (\d+) of the grader's tests \(([^;]+);", done.stdout)
    assert covered and int(covered[1]) == len(named)
    assert covered[2].split(", ") == sorted((rubric[n].number for n in named),
                                            key=lambda x: [int(p) for p in x.split(".")])
    assert not list(release.rglob("__pycache__")), "the self-check left bytecode behind"


def test_self_check_gives_full_marks_to_the_reference(release: Path) -> None:
    done = run_check([str(ROOT / "solution")], release)
    assert done.returncode == 0, done.stdout + done.stderr
    got, total = score(done.stdout)
    assert got == total, done.stdout
    assert "failed:" not in done.stdout


def test_self_check_takes_off_exactly_the_broken_test(release: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(ROOT / "solution", broken, ignore=shutil.ignore_patterns("__pycache__"))
    flow = broken / "flow.py"
    right = "return (1 - t) * x0 + t * x1"
    assert right in flow.read_text()
    flow.write_text(flow.read_text().replace(right, "return t * x0 + (1 - t) * x1"))  # the endpoints swapped
    done = run_check([str(broken)], release)
    assert done.returncode == 0, done.stdout + done.stderr
    failed = re.findall(r"^  (\w+)::(\w+) \(-([\d.]+)\): (.*)$", done.stdout, re.M)
    assert [(part, name) for part, name, _, _ in failed] == [("flow", "test_fm_interpolate_endpoints_and_per_sample_t")]
    assert "t = 0 must give x0" in failed[0][3]
    got, total = score(done.stdout)
    assert got == total - float(failed[0][2])


def test_self_check_of_a_notebook(release: Path, tmp_path: Path) -> None:
    """python check.py assignment.ipynb: the notebook's definitions are checked, its training cells never
    run; the untouched notebook scores 0 with one TODO line a test, the solution notebook full marks, and
    a shell line or a broken cell costs only what it defines."""
    done = run_check(["assignment.ipynb"], release)
    assert done.returncode == 0, done.stdout + done.stderr
    assert score(done.stdout)[0] == 0 and "TODO(q_sample)" in done.stdout and "Traceback" not in done.stdout
    notebook = json.loads((ROOT / "notebooks" / "solution.ipynb").read_text())
    notebook["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                 "source": "!pip install torch\ndef broken(:"})
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                              "source": "raise SystemExit('a training cell that must never run')"})
    (tmp_path / "mine.ipynb").write_text(json.dumps(notebook))
    done = run_check([str(tmp_path / "mine.ipynb")], release)
    assert done.returncode == 0, done.stdout + done.stderr
    got, total = score(done.stdout)
    assert got == total and "cell 2 is not valid Python" in done.stdout, done.stdout


def test_self_check_without_a_package_folder(release: Path, tmp_path: Path) -> None:
    done = run_check([str(tmp_path / "nowhere")], release)
    assert done.returncode != 0
    assert len(done.stdout.strip().splitlines()) == 1 and "nowhere" in done.stdout


def test_release_refuses_a_stale_skeleton(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools import make_student

    monkeypatch.setattr(make_student.make_skeleton, "compare", lambda *a: ["skeleton/flow.py differs"])
    with pytest.raises(make_student.StaleSources, match="flow.py"):
        build(tmp_path / "student.zip")
    assert not (tmp_path / "student.zip").exists()


def test_requirements_pin_the_project_versions() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = (ROOT / "student" / "requirements.txt").read_text().split()
    assert set(pins) <= set(project), "student/requirements.txt must use pyproject.toml's pins"
    needed = {"torch", "torchvision", "numpy", "matplotlib", "pillow", "tqdm", "pytest"}
    assert {p.split("==")[0] for p in pins} >= needed


def test_submit_packs_what_the_grader_reads(release: Path, tmp_path: Path) -> None:
    """make submit: the manifest's every figure, loss log and model checked, one zip written with the modules
    and figures/, losses/ and weights/ beside them (no checkpoints, no virtual environment), which the grader
    grades as the student's upload; a missing file is named and nothing is written."""
    top = tmp_path / TOP
    shutil.copytree(release, top)
    for path in (ROOT / "solution").glob("*.py"):
        shutil.copy(path, top / PACKAGE / path.name)
    shipped = ROOT / "assets" / "quick-deliverables"
    for folder in ("figures", "losses", "weights"):
        shutil.copytree(shipped / folder, top / "deliverables" / folder)
    (top / "deliverables" / "checkpoints").mkdir()
    (top / "deliverables" / "checkpoints" / "ddpm_time.pt").write_bytes(b"resume state")
    (top / ".venv" / "lib").mkdir(parents=True)

    def submit() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "submit.py"], cwd=top, capture_output=True, text=True, timeout=120)

    done = submit()
    assert done.returncode == 0 and "upload it as it is" in done.stdout, done.stdout + done.stderr
    with zipfile.ZipFile(top / "submission.zip") as zf:
        names = set(zf.namelist())
    assert {p.name for p in (ROOT / "solution").glob("*.py")} <= names
    assert {f"figures/{p.name}" for p in (shipped / "figures").iterdir()} <= names
    assert not any(n.startswith(("checkpoints/", ".venv/", "deliverables/")) for n in names)
    grade = graded(str(top / "submission.zip"), "--tests", "noising,test_figures_noising,test_figures_denoiser")
    assert grade.results["score"] == sum(t["max_score"] for t in grade.results["tests"]) > 0, grade.stdout
    assert "figures/ in the submission" in grade.stdout

    (top / "deliverables" / "weights" / "denoiser.pt").unlink()
    (top / "submission.zip").unlink()
    missing = submit()
    assert missing.returncode == 1 and "weights/denoiser.pt" in missing.stdout
    assert "Nothing was written" in missing.stdout
    assert not (top / "submission.zip").exists()


def test_the_readme_names_every_deliverable_and_the_handout_s_settings(release: Path) -> None:
    """The handout stands alone: every figure of the manifest with what it must show, and each run's settings
    (written from the manifest and config.py by tools/rubric_docs.py, checked stale by make test)."""
    from solution.config import PROFILES
    from solution.manifest import FIGURES

    readme = (release / "README.md").read_text()
    for figure in FIGURES:
        assert f"| `{figure['file']}` | {figure['part']} | {figure['shows']} |" in readme, figure["file"]
    for run in PROFILES["full"]:
        assert f"| `{run.name}` | {run.model} | {run.objective} | {run.num_hiddens} | {run.batch_size} |" in readme
    assert "make submit" in readme and "submission.zip" in readme
