# Generated from the reference by tools/make_skeleton.py: do not edit by hand.
"""Variance (beta) schedules for DDPM (Part 2).

A schedule is a 1-D float32 tensor of length T = num_ts; index t = 0 is the least noisy
step. `ddpm_schedule` bundles betas with alphas = 1 - betas and their cumulative product.
"""

from __future__ import annotations

import math

import torch


def linear_beta_schedule(beta_start: float = 1e-4, beta_end: float = 0.02, num_ts: int = 300) -> torch.Tensor:
    """T betas evenly spaced from beta_start (t = 0) to beta_end (t = T - 1), both included."""
    raise NotImplementedError(
        'TODO(linear_beta_schedule): return num_ts evenly spaced values from beta_start to beta_end '
        'inclusive (float32). Hint: torch.linspace.'
    )


def cosine_beta_schedule(num_ts: int = 300, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Nichol & Dhariwal (2021): alpha_bar(t) = f(t) / f(0), f(t) = cos^2(pi/2 (t/T + s) / (1 + s)),
    beta_t = 1 - alpha_bar(t + 1) / alpha_bar(t) for t = 0 .. T-1, clipped at max_beta."""
    raise NotImplementedError(
        'TODO(cosine_beta_schedule): evaluate f on the T + 1 points t = 0 .. T, form alpha_bar = f / '
        'f(0), then betas = 1 - alpha_bar[1:] / alpha_bar[:-1] clipped to max_beta. Hint: compute in '
        'float64, return float32.'
    )


def sigmoid_beta_schedule(
    beta_start: float = 1e-4, beta_end: float = 0.02, num_ts: int = 300, s_limit: float = 6.0
) -> torch.Tensor:
    """beta_t = beta_start + sigmoid(-s_limit + 2 t s_limit / T) (beta_end - beta_start), t = 0 .. T-1."""
    raise NotImplementedError(
        'TODO(sigmoid_beta_schedule): apply the formula above to t = 0 .. T-1. Hint: torch.sigmoid; '
        'compute in float64, return float32.'
    )


def ddpm_schedule(
    beta1: float = 1e-4, beta2: float = 0.02, num_ts: int = 300, kind: str = "linear"
) -> dict[str, torch.Tensor]:
    """The DDPM schedule as a dict of T-long tensors: "betas", "alphas" = 1 - betas and
    "alpha_bars" = cumulative product of the alphas. `kind` is linear, cosine or sigmoid
    (cosine ignores beta1 and beta2)."""
    if kind == "linear":
        betas = linear_beta_schedule(beta1, beta2, num_ts)
    elif kind == "cosine":
        betas = cosine_beta_schedule(num_ts)
    elif kind == "sigmoid":
        betas = sigmoid_beta_schedule(beta1, beta2, num_ts)
    else:
        raise ValueError(f"unknown schedule kind {kind!r}: use linear, cosine or sigmoid")
    raise NotImplementedError(
        'TODO(ddpm_schedule): compute alphas = 1 - betas and alpha_bars = their cumulative product, '
        'and return the three in a dict. Hint: torch.cumprod.'
    )
