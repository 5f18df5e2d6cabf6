"""Where the grader's own files are, and where the data is: one place for every path the grader
computes. Torch-free, so the command can check prerequisites before torch loads."""

from __future__ import annotations

import os
from pathlib import Path

GRADER = Path(__file__).resolve().parent
ROOT = GRADER.parent  # the project: grader/, assets/, solution/, ...
ASSETS = ROOT / "assets"
CATALOG = GRADER / "catalog"
RUBRIC = GRADER / "rubric.toml"
WORKER = GRADER / "worker"  # staged read-only into each sandbox
MANIFEST = ASSETS / "deliverables.json"
CLASSIFIER_WEIGHTS = ASSETS / "classifier.pt"
CLASSIFIER_CARD = ASSETS / "classifier.json"


def data_root() -> Path:
    """$DATA_ROOT (default ./data): the folder holding MNIST/raw in torchvision's layout."""
    return Path(os.environ.get("DATA_ROOT", "./data"))
