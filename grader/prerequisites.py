"""What the grader needs besides the submission, checked before any student code runs.

A missing data set or model file is the course staff's setup problem: grading stops with one
line that says what to do, instead of a results.json in which a student silently lost the
tests that needed it (docs/security.md, "The grader's own failures").
"""

from __future__ import annotations

from .paths import CLASSIFIER_CARD, CLASSIFIER_WEIGHTS, data_root
from .rubric import Rubric

# torchvision's MNIST reads these from <DATA_ROOT>/MNIST/raw: the smoke tests train on the training split
# and are judged on the test split; the figure tests look for copies of either in sample grids.
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")


def missing(rubric: Rubric, selection: str) -> list[str]:
    """One line per missing prerequisite of the tests `selection` picks (empty when all is there)."""
    parts = {e.part for e in rubric.entries.values() if e.selected(selection)}
    problems = []
    needing = [p for p in ("training", "figures") if p in parts]
    if needing:
        root = data_root()
        lost = [f for f in MNIST_FILES if not (root / "MNIST" / "raw" / f).is_file()]
        if lost:
            which = " and ".join(needing)
            problems.append(f"MNIST is not under {root.resolve()}/MNIST/raw (missing {', '.join(lost)}), and the "
                            f"{which} tests need it: set DATA_ROOT to the folder that holds MNIST/raw, or leave "
                            f"the {which} part{'s' if len(needing) > 1 else ''} out with --tests")
    if "figures" in parts:
        lost = [f.name for f in (CLASSIFIER_WEIGHTS, CLASSIFIER_CARD) if not f.is_file()]
        if lost:
            problems.append(f"the reference classifier is missing ({', '.join('assets/' + f for f in lost)}), and "
                            "the figure tests need it: restore assets/ (make classifier retrains it), or leave the "
                            "figures part out with --tests")
    return problems
