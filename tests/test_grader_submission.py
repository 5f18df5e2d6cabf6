"""Reading submissions without running them: folders (nested too), zips (and what they may
not contain), notebooks (which statements count as definitions)."""

from __future__ import annotations

import ast
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
import torch

from grader import launch as launch_module
from grader import prerequisites
from grader.rubric import load_rubric
from grader.sandbox import training
from grader.submission import CONTRACT_MODULES, load_submission
from grader.submission.archive import MAX_UNPACKED
from grader.submission.definitions import DefinitionFilter
from tests.grader_fixtures.grading import ROOT, graded, run_cli, run_main, workdir


def _zip(path: Path, entries: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_folder_finds_nested_modules(tmp_path: Path) -> None:
    nested = tmp_path / "my homework" / "code"
    nested.mkdir(parents=True)
    for name in CONTRACT_MODULES:
        (nested / f"{name}.py").write_text(f"# {name}\n")
    (tmp_path / "notes.txt").write_text("not code")
    sub = load_submission(tmp_path)
    assert sub.rejected is None and sorted(sub.files) == sorted(f"{m}.py" for m in CONTRACT_MODULES)
    assert any("my homework/code" in n for n in sub.notes)


def test_folder_without_modules_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("hello")
    sub = load_submission(tmp_path)
    assert sub.rejected and "found none of unet.py" in sub.rejected


@pytest.mark.parametrize(
    "entries,links,reason",
    [
        ({"/abs/unet.py": b""}, (), "absolute path"),
        ({"hw/../../unet.py": b""}, (), "'..'"),
        ({"unet.py": b""}, ("diffusion.py",), "symbolic link"),
    ],
    ids=["absolute", "dotdot", "link"],
)
def test_unsafe_zips_are_rejected(tmp_path: Path, entries: dict, links: tuple, reason: str) -> None:
    sub = load_submission(_zip(tmp_path / "sub.zip", entries, links))
    assert sub.rejected and reason in sub.rejected and not sub.files


def test_zip_larger_than_the_limit_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("unet.py", b"#" * (MAX_UNPACKED + 1))  # compresses to almost nothing
    sub = load_submission(path)
    assert sub.rejected and "MB" in sub.rejected


def test_zip_of_the_solution_is_graded_like_its_folder() -> None:
    """A zip holding the package folder is unpacked and graded (on three parts: what is graded does not
    depend on the form, see test_grader_correct and test_gradescope)."""
    entries = {f"hw/{p.name}": p.read_bytes() for p in (ROOT / "solution").glob("*.py")}
    path = _zip(workdir("zips") / "solution.zip", entries)
    parts = "schedules,q_sample,flow"
    g = graded(str(path), "--tests", parts)
    assert g.returncode == 0, g.stderr
    chosen = {k: e for k, e in load_rubric().entries.items() if e.selected(parts)}
    assert set(g.by_id()) == set(chosen) and not g.failed()
    assert g.results["score"] == sum(e.points for e in chosen.values())
    assert "(zip)" in g.report_md and "solution.zip" in g.report_md  # graded as the zip it is


def test_public_selects_the_tests_students_see() -> None:
    entries = load_rubric().entries.values()
    assert {e.id for e in entries if e.selected("public")} == {e.id for e in entries if e.visibility == "visible"}


def test_rejected_zip_still_completes_with_zero(tmp_path: Path) -> None:
    g = run_cli(_zip(tmp_path / "evil.zip", {"../evil.py": b"import os"}), "evil-zip")
    assert g.returncode == 0
    assert g.results["score"] == 0 and "not graded" in g.results["output"]
    assert "'..'" in g.results["tests"][0]["output"]


def test_missing_path_is_a_usage_error() -> None:
    g = run_cli(ROOT / "no-such-submission", "missing")
    assert g.returncode == 2 and "no such submission" in g.stderr and not g.results


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message when no GPU is there")
def test_cuda_without_a_gpu_is_a_usage_error() -> None:
    g = run_cli(ROOT / "solution", "no-cuda", "--device", "cuda")
    assert g.returncode == 2 and "no CUDA device is available" in g.stderr


def _kept(source: str) -> list[bool]:
    filt = DefinitionFilter()
    return [filt.keep(node) for node in ast.parse(source).body]


def test_definitions_are_kept() -> None:
    source = '''
import torch
from torch import nn
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
T: int = 300
Schedule = dict[str, torch.Tensor]
def f(x, device=DEVICE):
    return x
class Net(nn.Module):
    pass
try:
    import google.colab
    IN_COLAB = True
except ImportError:
    IN_COLAB = False
'''
    assert all(_kept(source))


def test_everything_else_is_dropped() -> None:
    source = '''
model = Net()
losses = train()
train()
for i in range(3):
    pass
if __name__ == "__main__":
    train()
x = losses
os.environ["A"] = "1"
with open("f") as f:
    pass
'''
    filt = DefinitionFilter(defined={"Net", "train"})  # the notebook defined these earlier
    assert not any(filt.keep(node) for node in ast.parse(source).body)


def test_library_calls_in_constants_need_an_import() -> None:
    assert _kept("import os\nROOT = os.getcwd()") == [True, True]
    assert _kept("ROOT = os.getcwd()") == [False]  # os was never imported: its call cannot be trusted


def test_only_python_files_are_staged(tmp_path: Path) -> None:
    for name in CONTRACT_MODULES:
        (tmp_path / f"{name}.py").write_text("")
    (tmp_path / "data.bin").write_bytes(b"\0" * 10)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "unet.cpython-311.pyc").write_bytes(b"\0")
    assert sorted(load_submission(tmp_path).files) == sorted(f"{m}.py" for m in CONTRACT_MODULES)


# -- links, special files, the output folder and the grader's own prerequisites ---------------------


def test_links_and_special_files_are_not_graded(tmp_path: Path) -> None:
    """A link to someone else's notebook or to the reference is not one's own work, and a FIFO
    named like a module would block the reader: each is left out with a note, nothing hangs."""
    only_link = tmp_path / "only-link"
    only_link.mkdir()
    (only_link / "hw.ipynb").symlink_to(ROOT / "notebooks" / "solution.ipynb")
    sub = load_submission(only_link)
    assert sub.rejected and "found none" in sub.rejected and not sub.files
    assert "hw.ipynb is a symbolic link: skipped" in sub.notes

    linked_folder = tmp_path / "linked-folder"
    linked_folder.mkdir()
    (linked_folder / "hw").symlink_to(ROOT / "solution", target_is_directory=True)
    sub = load_submission(linked_folder)
    assert sub.rejected and "hw is a symbolic link: skipped" in sub.notes

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for name in ("schedules.py", "diffusion.py"):
        (mixed / name).write_bytes((ROOT / "solution" / name).read_bytes())
    (mixed / "unet.py").symlink_to(ROOT / "solution" / "unet.py")
    os.mkfifo(mixed / "flow.py")
    sub = load_submission(mixed)
    assert set(sub.files) == {"schedules.py", "diffusion.py"}
    assert "unet.py is a symbolic link: skipped" in sub.notes and "flow.py is not a regular file: skipped" in sub.notes

    (tmp_path / "link.ipynb").symlink_to(ROOT / "notebooks" / "solution.ipynb")
    with pytest.raises(FileNotFoundError, match="symbolic link"):
        load_submission(tmp_path / "link.ipynb")


def test_a_folder_holding_a_link_to_the_solution_notebook_scores_zero(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "hw.ipynb").symlink_to(ROOT / "notebooks" / "solution.ipynb")
    g = run_main(folder, tmp_path / "out")
    assert g.returncode == 0 and g.results["score"] == 0
    assert "hw.ipynb is a symbolic link: skipped" in g.results["output"]


def test_the_output_is_never_written_through_a_link(tmp_path: Path) -> None:
    empty = tmp_path / "empty"  # rejected at once: no worker is needed to write the results
    empty.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out-link").symlink_to(elsewhere, target_is_directory=True)
    g = run_main(empty, tmp_path / "out-link")
    assert g.returncode == 2 and "is a symbolic link" in g.stderr and not list(elsewhere.iterdir())

    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("untouched")
    (out / "results.json").symlink_to(victim)  # planted by a process left over from an earlier grade
    g = run_main(empty, out)
    assert g.returncode == 0 and victim.read_text() == "untouched"
    assert not (out / "results.json").is_symlink() and g.results["score"] == 0
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.md", "results.json"]


def test_missing_data_or_classifier_stop_before_grading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The grader's set-up problems are never a student's lost points: one line, exit 2, no results."""
    monkeypatch.setenv("DATA_ROOT", str(tmp_path / "nowhere"))
    g = run_main(ROOT / "solution", tmp_path / "no-data", "--tests", "training")
    assert g.returncode == 2 and not g.results
    assert len(g.stderr.strip().splitlines()) == 1 and "MNIST" in g.stderr and "DATA_ROOT" in g.stderr
    monkeypatch.setattr(prerequisites, "CLASSIFIER_WEIGHTS", tmp_path / "classifier.pt")
    g = run_main(ROOT / "solution", tmp_path / "no-classifier", "--tests", "figures")
    assert g.returncode == 2 and "classifier" in g.stderr and not g.results
    assert prerequisites.missing(load_rubric(), "schedules,flow") == []  # parts that need neither


def test_a_grader_error_makes_the_grade_incomplete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("the grader's data reader broke")

    monkeypatch.setattr(training.data, "training_sample", broken)
    g = run_main(ROOT / "solution", tmp_path / "out", "--tests", "test_train_denoiser")
    assert g.returncode == 3 and "incomplete" in g.stderr and "test_train_denoiser" in g.stderr
    test = g.by_id()["test_train_denoiser"]
    assert test["extra_data"]["grader_error"] and "not your fault" in test["output"]
    assert g.results["extra_data"]["incomplete"] and "INCOMPLETE" in g.results["output"]


def test_a_grade_past_its_total_time_fails_the_tests_still_to_run(tmp_path: Path) -> None:
    g = run_main(ROOT / "solution", tmp_path / "out", "--tests", "schedules", "--total-time", "0")
    assert g.returncode == 0 and g.results["tests"] and g.results["score"] == 0
    for test in g.results["tests"]:
        assert "total time limit of 0 s" in test["output"] and not test["extra_data"]["grader_error"], test


def test_one_slow_request_cannot_carry_the_grade_past_its_total_time(tmp_path: Path) -> None:
    """The budget is enforced inside a test too: a request that would run until its own timeout
    (60 s here) is stopped when the grade's total time (15 s) runs out, and the rest are not run."""
    import shutil
    import time

    slow = tmp_path / "slow"
    shutil.copytree(ROOT / "solution", slow, ignore=shutil.ignore_patterns("__pycache__"))
    source = (slow / "schedules.py").read_text()
    (slow / "schedules.py").write_text(source.replace(
        '    """T betas evenly spaced from beta_start (t = 0) to beta_end (t = T - 1), both included."""\n',
        '    """T betas evenly spaced from beta_start (t = 0) to beta_end (t = T - 1), both included."""\n'
        "    import time\n    time.sleep(120)\n", 1))
    start = time.monotonic()
    g = run_main(slow, tmp_path / "out", "--tests", "schedules", "--total-time", "15", "--timeout", "60")
    assert time.monotonic() - start < 50, "the slow request ran to its own timeout"
    assert g.returncode == 0 and g.results["score"] == 0
    outputs = [t["output"] for t in g.results["tests"]]
    assert any("was stopped: the submission used up the grade's total time limit of 15 s" in o for o in outputs)
    assert all("total time limit of 15 s" in o for o in outputs), outputs
    assert not any(t["extra_data"]["grader_error"] for t in g.results["tests"])


def test_without_isolation_student_code_runs_only_when_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither root nor user namespaces: one line saying so, unless the TA says the code is trusted."""
    assert launch_module.can_isolate()  # here: root, or user namespaces
    monkeypatch.setattr(launch_module, "can_isolate", lambda: False)
    g = run_main(ROOT / "solution", tmp_path / "refused", "--tests", "schedules")
    assert g.returncode == 2 and not g.results
    assert len(g.stderr.strip().splitlines()) == 1 and "cannot be isolated" in g.stderr and "--trusted" in g.stderr
    g = run_main(ROOT / "solution", tmp_path / "trusted", "--tests", "schedules", "--trusted")
    assert g.returncode == 0 and g.results["score"] == sum(t["max_score"] for t in g.results["tests"]) > 0


def _patched(path: Path, local: dict[int, bytes], central: dict[int, bytes]) -> Path:
    """Overwrite bytes at offsets of the first local file header and central directory entry."""
    data = bytearray(path.read_bytes())
    for sig, changes in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
        at = data.index(sig)
        for offset, value in changes.items():
            data[at + offset: at + offset + len(value)] = value
    path.write_bytes(bytes(data))
    return path


def _malformed(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{kind}.zip"
    code = (ROOT / "solution" / "unet.py").read_bytes()
    if kind == "clash":  # a file and a folder of the same name
        return _zip(path, {"hw": b"x", "hw/unet.py": code})
    if kind == "long_name":
        return _zip(path, {"a" * 300 + ".py": b"", "unet.py": code})
    _zip(path, {"unet.py": code})
    if kind == "bad_crc":
        return _patched(path, {14: b"\x00\x00\x00\x00"}, {16: b"\x00\x00\x00\x00"})
    if kind == "encrypted":
        return _patched(path, {6: b"\x01\x00"}, {8: b"\x01\x00"})
    return _patched(path, {8: b"\x63\x00"}, {10: b"\x63\x00"})  # compression method 99


@pytest.mark.parametrize("kind", ["bad_crc", "encrypted", "unknown_method", "clash", "long_name"])
def test_malformed_zips_are_rejected_in_one_line(tmp_path: Path, kind: str) -> None:
    sub = load_submission(_malformed(kind, tmp_path))
    assert sub.rejected and not sub.files and "\n" not in sub.rejected, sub.rejected
    assert "zip" in sub.rejected


def test_a_ta_maps_a_submission_s_own_names_onto_the_contract_s() -> None:
    """--map THEIRS=OURS: a class the student named otherwise is graded as the contract's, and the
    report says so; without the map the test fails with the name it could not find."""
    folder = workdir("renamed-class") / "hw"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(ROOT / "solution", folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("unet.py", "train.py"):
        path = folder / name
        path.write_text(path.read_text().replace("ClassConditionalUNet", "TimeAndClassConditionalUNet"))
    test = "test_class_unet_shape"
    plain = graded(str(folder), "--tests", test)
    assert plain.failed() == {test} and "ClassConditionalUNet" in plain.by_id()[test]["output"]
    mapped = graded(str(folder), "--tests", test, "--map", "TimeAndClassConditionalUNet=ClassConditionalUNet")
    assert mapped.returncode == 0 and not mapped.failed(), mapped.stderr
    assert "TimeAndClassConditionalUNet stands for ClassConditionalUNet" in mapped.report_md
    bad = run_main(folder, workdir("renamed-class") / "bad", "--map", "no-equals-sign")
    assert bad.returncode == 2 and "THEIR_NAME=CONTRACT_NAME" in bad.stderr
