"""Statistical checks, with thresholds far (5 sigma or more) from what a correct, seeded
implementation produces, so they neither flake nor let a wrong distribution through."""

from __future__ import annotations

import torch

from .expect import Mismatch


def expect_standard_normal(sample: torch.Tensor, what: str, tolerance: float = 0.05) -> None:
    """Mean 0, std 1 and 68.3 % within one std, on many draws."""
    s = sample.detach().to(torch.float64).reshape(-1)
    mean, std = s.mean().item(), s.std().item()
    within = (s.abs() < 1).to(torch.float64).mean().item()
    ok = abs(mean) < tolerance and abs(std - 1) < tolerance and abs(within - 0.6827) < tolerance
    if ok:
        return
    hint = None
    if s.min() >= 0 and abs(mean - 0.5) < 0.05:
        hint = "this looks like torch.rand (uniform on [0, 1)); standard normal noise is torch.randn"
    elif std < 1e-6:
        hint = "no noise at all: the noise was never drawn or was multiplied by zero"
    detail = (f"  {s.numel()} draws: mean {mean:.4f} (expected 0), std {std:.4f} (expected 1), "
              f"{within:.1%} within one std (expected 68.3%)")
    raise Mismatch(what, detail, hint)


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.to(torch.float64).reshape(-1), b.to(torch.float64).reshape(-1)
    a, b = a - a.mean(), b - b.mean()
    return float((a @ b) / (a.norm() * b.norm() + 1e-12))
