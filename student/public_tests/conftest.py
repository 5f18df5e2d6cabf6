"""Shared pieces of the public tests.

`hw` gives the modules under test: the package folder named by $HW_PACKAGE (check.py sets it),
by default the `hw/` folder next to this one. Each module is imported on first use, so a
mistake in one file only fails the tests that need it.

`kit` is kit.py, the stand-in networks and inputs: the diffusion and flow tests use its tiny
networks instead of your UNet, so each test exercises one function of yours, not everything at once.

The test_public_*.py files are written from the course's test declarations: edits to them are
overwritten in the next release.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from pathlib import Path

import kit as toolkit
import pytest
import torch

PACKAGE = "hw"


class Modules:
    """hw.unet, hw.diffusion, ...: the student's modules, imported on first access."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __getattr__(self, name: str) -> types.ModuleType:
        if PACKAGE not in sys.modules:
            package = types.ModuleType(PACKAGE)
            package.__path__ = [str(self.folder)]  # a package without importing its __init__.py
            sys.modules[PACKAGE] = package
        return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="session")
def hw() -> Modules:
    folder = Path(os.environ.get("HW_PACKAGE", Path(__file__).resolve().parent.parent / PACKAGE))
    if not folder.is_dir():
        pytest.exit(f"no package folder {folder}", returncode=4)
    return Modules(folder.resolve())


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def kit() -> types.ModuleType:
    """The stand-in networks and inputs of kit.py."""
    return toolkit


@pytest.fixture
def time_net() -> toolkit.TimeNet:
    return toolkit.TimeNet()


@pytest.fixture
def class_net() -> toolkit.ClassNet:
    return toolkit.ClassNet()
