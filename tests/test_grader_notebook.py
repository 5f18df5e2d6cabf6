"""Notebook submissions: the generated solution notebook gets full marks without its training
cells running; a broken cell costs only what it defines; an unreadable notebook gets a clear
message and zero, and grading still completes."""

from __future__ import annotations

from pathlib import Path

import nbformat

from grader.rubric import load_rubric
from tests.grader_fixtures.grading import CODE_MAX, ROOT, graded, workdir
from tests.grader_fixtures.variants import FLOW

NOTEBOOK = ROOT / "notebooks" / "solution.ipynb"


def test_solution_notebook_gets_full_marks() -> None:
    g = graded(str(NOTEBOOK))
    assert g.returncode == 0, g.stderr
    assert g.results["score"] == CODE_MAX
    assert not g.failed() and g.figures_missing()  # a notebook has no figures/ beside it


def test_training_cells_are_left_out_and_listed() -> None:
    md = graded(str(NOTEBOOK)).report_md
    cells = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    runs = [line for src in cells for line in src.splitlines() if line.startswith(("runner.", "runner ="))]
    assert len(runs) >= 4  # the runner is built, then each part trains
    for line in runs:
        assert f"`{line.strip()}`" in md
    assert "def show" not in md  # definitions are kept, not listed
    assert not (ROOT / "deliverables").exists()  # the notebook's OUT: nothing was trained or written


def _broken_notebook() -> Path:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("def fm_interpolate("):
            cell.source = cell.source.replace("(x0: torch.Tensor,", "(x0 torch.Tensor,", 1)
    nb.cells.insert(1, nbformat.v4.new_code_cell("!pip install torch\n%matplotlib inline\nimport math"))
    nb.cells.insert(2, nbformat.v4.new_code_cell("%%bash\necho not python"))
    path = workdir("notebooks") / "broken_cell.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_broken_cell_costs_only_its_definitions() -> None:
    g = graded(str(_broken_notebook()))
    assert g.returncode == 0, g.stderr
    needs_interpolate = {"test_fm_interpolate", "test_fm_forward_loss", "test_fm_forward_unet_inputs",
                         "test_fm_forward_p_uncond", "test_flow_matching_wrapper", "test_train_flow"}
    assert g.failed() == needs_interpolate
    assert set(FLOW) - needs_interpolate <= {k for k, v in g.scores().items() if v > 0}
    assert "the notebook does not define `fm_interpolate`" in g.by_id()["test_fm_interpolate"]["output"]
    md = g.report_md
    assert "not valid Python" in md and "`!pip install torch` (shell or magic line)" in md and "cell magic" in md


def test_unreadable_notebook_scores_zero_with_a_message() -> None:
    path = workdir("notebooks") / "garbled.ipynb"
    path.write_text("{ this is not json")
    g = graded(str(path))
    assert g.returncode == 0, g.stderr
    assert g.results["score"] == 0 and len(g.results["tests"]) == len(load_rubric().entries)
    assert "could not be read as a Jupyter notebook" in g.results["output"]
    assert all("not graded" in t["output"] for t in g.results["tests"])


def test_code_too_deep_for_the_parser_is_a_skipped_cell_not_a_crash() -> None:
    """A cell nested a million levels deep (RecursionError or MemoryError in Python's parser) is left
    out in one line like any unreadable cell; the rest of the notebook is graded."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell("deep = " + "-" * 1_000_000 + "1"))
    nb.cells.insert(2, nbformat.v4.new_code_cell("chain = " + "a." * 300_000 + "b"))
    path = workdir("notebooks") / "deep_cell.ipynb"
    nbformat.write(nb, path)
    g = graded(str(path), "--tests", "flow")
    assert g.returncode == 0, g.stderr
    assert not g.failed()
    assert g.report_md.count("too deeply nested or too large for Python's parser") == 2


def test_json_too_deep_for_the_reader_is_a_one_line_rejection() -> None:
    path = workdir("notebooks") / "deep_json.ipynb"
    path.write_text('{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}")
    g = graded(str(path), "--tests", "flow")
    assert g.returncode == 0, g.stderr
    assert g.results["score"] == 0 and "could not be read as a Jupyter notebook" in g.results["output"]
