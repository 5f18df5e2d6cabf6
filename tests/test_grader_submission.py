"""Reading submissions without running them: folders (nested too), zips (and what they may
not contain), notebooks (which statements count as definitions)."""

from __future__ import annotations

import ast
import stat
import zipfile
from pathlib import Path

import pytest
import torch

from grader.rubric import load_rubric
from grader.submission import CONTRACT_MODULES, load_submission
from grader.submission.archive import MAX_UNPACKED
from grader.submission.definitions import DefinitionFilter
from tests.grader_fixtures.grading import ROOT, graded, run_cli, workdir


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


def test_zip_of_the_solution_passes_the_public_tests() -> None:
    entries = {f"hw/{p.name}": p.read_bytes() for p in (ROOT / "solution").glob("*.py")}
    path = _zip(workdir("zips") / "solution.zip", entries)
    g = graded(str(path), "--tests", "public")
    assert g.returncode == 0, g.stderr
    public = {k: e for k, e in load_rubric().entries.items() if e.public}
    assert set(g.by_id()) == set(public)  # only the public tests ran
    assert g.results["score"] == sum(e.points for e in public.values() if e.part != "figures")
    assert g.figures_missing()  # the zip holds no figures/


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
