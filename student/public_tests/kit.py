"""The self-check's toolkit: stand-in networks and inputs shaped like the assignment's, so that each
test exercises one function of yours, not everything at once. Tests reach it as the `kit` fixture.
"""

from __future__ import annotations

import torch
from torch import nn

NUM_HIDDENS = 8  # the UNets' width in the self-check: small, so the tests run fast


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


def small_net() -> nn.Module:
    """Stands in for your UnconditionalUNet: x -> an image of the same shape."""
    return nn.Conv2d(1, 1, 3, padding=1)


def check_betas(betas: object, num_ts: int) -> None:
    """A variance schedule is a float32 tensor of shape (num_ts,) with every beta in (0, 1)."""
    assert isinstance(betas, torch.Tensor), f"a schedule is a tensor, got {type(betas).__name__}"
    assert betas.shape == (num_ts,), f"expected shape ({num_ts},), got {tuple(betas.shape)}"
    assert betas.dtype == torch.float32, f"expected float32, got {betas.dtype}"
    assert bool(((betas > 0) & (betas < 1)).all()), "every beta must lie in (0, 1)"
