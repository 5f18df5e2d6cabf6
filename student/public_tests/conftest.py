"""Shared pieces of the public tests.

`hw` gives the modules under test: the package folder named by $HW_PACKAGE (check.py sets it),
by default the `hw/` folder next to this one. Each module is imported on first use, so a
mistake in one file only fails the tests that need it.

The diffusion and flow tests use the tiny stand-in networks below instead of your UNet, so
each test exercises one function of yours, not everything at once.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from pathlib import Path

import pytest
import torch
from torch import nn

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


def _time_column(t: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t).to(x).reshape(-1)
    if t.numel() == 1:
        t = t.expand(len(x))
    assert t.shape == (len(x),), f"the network got t with {t.numel()} values for a batch of {len(x)}"
    assert float(t.min()) >= 0 and float(t.max()) <= 1, (
        f"the network must get the normalised time t / T in [0, 1], got values up to {float(t.max()):g}"
    )
    return t.reshape(-1, 1, 1, 1)


class TimeNet(nn.Module):
    """A stand-in for a time-conditioned UNet: unet(x, t) with t of shape (N,) or (N, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * (1 + _time_column(t, x))


class ClassNet(TimeNet):
    """A stand-in for a class-conditioned UNet: unet(x, c, t) with one-hot c of shape (N, 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(10, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        assert c.shape == (len(x), 10), f"c must be one-hot of shape (N, 10), got {tuple(c.shape)}"
        return super().forward(x, t) + self.embed(c.to(x)).reshape(-1, 1, 1, 1)


@pytest.fixture
def time_net() -> TimeNet:
    return TimeNet()


@pytest.fixture
def class_net() -> ClassNet:
    return ClassNet()


def schedule(num_ts: int = 20) -> dict[str, torch.Tensor]:
    """A schedule dict as ddpm_schedule returns it, built here so tests need no schedule of yours."""
    betas = torch.linspace(1e-4, 0.02, num_ts)
    alphas = 1 - betas
    return {"betas": betas, "alphas": alphas, "alpha_bars": torch.cumprod(alphas, 0)}


def images(n: int = 4) -> torch.Tensor:
    """A batch shaped like MNIST: (n, 1, 28, 28) float32 in [0, 1]."""
    return torch.rand(n, 1, 28, 28)


def one_hot(labels: list[int]) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(labels), 10).float()


def is_scalar(value: object) -> bool:
    return isinstance(value, torch.Tensor) and value.dim() == 0 and bool(torch.isfinite(value))
