"""The generated notebooks: in sync with the modules; the solution notebook runs end to end
(tiny profile, real kernel); the student notebook defines everything and stops at the first TODO."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from solution.manifest import FIGURES
from tools.make_notebook import OUTPUTS, render

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path, tmp_path: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("HW_PROFILE", "tiny")
    monkeypatch.setenv("HW_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("DATA_ROOT", str(Path(os.environ.get("DATA_ROOT", "./data")).resolve()))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def test_notebooks_are_in_sync() -> None:
    for folder, path in OUTPUTS.items():
        assert path.read_text() == render(ROOT / folder), f"{path.name} is stale: run make skeleton"


def test_notebooks_are_valid() -> None:
    for path in OUTPUTS.values():
        nbformat.validate(nbformat.read(path, as_version=4))


def test_solution_notebook_runs_end_to_end(tmp_path, monkeypatch) -> None:
    (tmp_path / "assignment.ipynb").write_bytes(OUTPUTS["solution"].read_bytes())  # the notebook, saved
    nb = execute(OUTPUTS["solution"], tmp_path, monkeypatch)
    for f in FIGURES:
        assert (tmp_path / "out" / "figures" / f["file"]).exists(), f["file"]
    # Its last cell checked the deliverables and packed the upload: the notebook with the three folders beside it.
    with zipfile.ZipFile(tmp_path / "submission.zip") as zf:
        names = set(zf.namelist())
    assert "assignment.ipynb" in names and {f"figures/{f['file']}" for f in FIGURES} <= names
    assert any(n.startswith("weights/") for n in names) and not any(n.startswith("checkpoints/") for n in names)
    shown = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert len(shown) >= 20  # the figures are displayed inline


def test_student_notebook_stops_at_the_first_todo(tmp_path, monkeypatch) -> None:
    with pytest.raises(CellExecutionError) as err:
        execute(OUTPUTS["skeleton"], tmp_path, monkeypatch)
    assert "NotImplementedError" in str(err.value) and "TODO(" in str(err.value)
