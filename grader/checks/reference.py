"""The correct answers, computed by the grader in float64 from the contract's formulas."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..worker.mocks import DEFAULTS, mock_output

F64 = torch.float64


def linear_betas(beta_start: float = 1e-4, beta_end: float = 0.02, num_ts: int = 300) -> torch.Tensor:
    return torch.linspace(beta_start, beta_end, num_ts, dtype=F64)


def cosine_alpha_bar(num_ts: int, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal (2021), eq. 17: alpha_bar(t) = f(t) / f(0) on t = 0 .. T (T + 1 points)."""
    steps = torch.arange(num_ts + 1, dtype=F64) / num_ts
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    return f / f[0]


def cosine_betas(num_ts: int = 300, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    ab = cosine_alpha_bar(num_ts, s)
    return (1 - ab[1:] / ab[:-1]).clamp(max=max_beta)


def sigmoid_betas(
    beta_start: float = 1e-4, beta_end: float = 0.02, num_ts: int = 300, s_limit: float = 6.0
) -> torch.Tensor:
    t = torch.arange(num_ts, dtype=F64)
    return beta_start + torch.sigmoid(-s_limit + 2 * t * s_limit / num_ts) * (beta_end - beta_start)


BETAS: dict[str, Callable[..., torch.Tensor]] = {
    "linear": linear_betas, "cosine": cosine_betas, "sigmoid": sigmoid_betas,
}


def schedule_from_betas(betas: torch.Tensor, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    betas = betas.to(F64)
    alphas = 1 - betas
    return {"betas": betas.to(dtype), "alphas": alphas.to(dtype), "alpha_bars": torch.cumprod(alphas, 0).to(dtype)}


def schedule(num_ts: int = 300, kind: str = "linear", dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """The schedule dict handed to the student's functions (float32, like ddpm_schedule's)."""
    betas = cosine_betas(num_ts) if kind == "cosine" else BETAS[kind](1e-4, 0.02, num_ts)
    return schedule_from_betas(betas, dtype)


def at(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] in float64, shaped (N, 1, 1, 1)."""
    return values.to(F64)[t.long()].reshape(-1, *([1] * (like.dim() - 1)))


def q_sample(x0: torch.Tensor, t: torch.Tensor, sched: dict, noise: torch.Tensor) -> torch.Tensor:
    ab = at(sched["alpha_bars"], t, x0)
    return ab.sqrt() * x0.to(F64) + (1 - ab).sqrt() * noise.to(F64)


def mock_eps(x: torch.Tensor, t_norm: torch.Tensor, c: torch.Tensor | None = None, **params: float) -> torch.Tensor:
    """What the default mock UNet answers, in float64."""
    p = {**DEFAULTS, **params}
    return mock_output(x.to(F64), t_norm.to(F64), None if c is None else c.to(F64), p["a"], p["b"], p["k"])


def cfg(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, scale: float) -> torch.Tensor:
    return eps_uncond + scale * (eps_cond - eps_uncond)


def guided_eps(x: torch.Tensor, t_norm: torch.Tensor, c: torch.Tensor | None, scale: float | None) -> torch.Tensor:
    if c is None or scale is None:
        return mock_eps(x, t_norm, c)
    return cfg(mock_eps(x, t_norm, c), mock_eps(x, t_norm, torch.zeros_like(c)), scale)


def posterior_mean(x_t: torch.Tensor, t: torch.Tensor, sched: dict, eps: torch.Tensor) -> torch.Tensor:
    beta, alpha, ab = (at(sched[k], t, x_t) for k in ("betas", "alphas", "alpha_bars"))
    return (x_t.to(F64) - beta / (1 - ab).sqrt() * eps) / alpha.sqrt()


def p_sample(x_t: torch.Tensor, t: torch.Tensor, sched: dict, eps: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    beta = at(sched["betas"], t, x_t)
    noisy = (t > 0).to(F64).reshape(beta.shape)
    return posterior_mean(x_t, t, sched, eps) + noisy * beta.sqrt() * z.to(F64)


def fm_interpolate(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=F64)
    if t.dim() > 0:
        t = t.reshape(-1, *([1] * (x0.dim() - 1)))
    return (1 - t) * x0.to(F64) + t * x1.to(F64)


def euler(
    x0: torch.Tensor, num_ts: int, velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """x_{i+1} = x_i + u(x_i, i / n) / n for i = 0 .. n-1: the exact result of the Euler sampler."""
    x = x0.to(F64)
    for i in range(num_ts):
        x = x + velocity(x, torch.full((x.shape[0],), i / num_ts, dtype=F64)) / num_ts
    return x


def sgd_steps(
    before: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, lr: float, grad_clip: float | None = None,
    steps: int = 2, zero_grad: bool = True, clip: bool = True, step: bool = True,
) -> tuple[torch.Tensor, list[float]]:
    """What `steps` calls of a correct train_step do to nn.Linear(weight, bias) under plain SGD
    with an MSE loss (the worker's probe): the final parameters, flattened, and each call's loss.
    The flags switch off one part of the step, for the misconceptions."""
    w = before["weight"].to(F64).clone().requires_grad_(True)
    b = before["bias"].to(F64).clone().requires_grad_(True)
    x, y = x.to(F64), y.to(F64)
    losses = []
    for _ in range(steps):
        if zero_grad:
            w.grad = b.grad = None
        loss = torch.nn.functional.mse_loss(x @ w.T + b, y)
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            if grad_clip is not None and clip:
                norm = torch.cat([w.grad.flatten(), b.grad.flatten()]).norm()
                factor = min(1.0, grad_clip / (norm.item() + 1e-6))  # as nn.utils.clip_grad_norm_
                w.grad *= factor
                b.grad *= factor
            if step:
                w -= lr * w.grad
                b -= lr * b.grad
    return torch.cat([w.detach().flatten(), b.detach().flatten()]), losses
