"""Known wrong formulas, computed by the grader on the same inputs as the right one.

When a student's answer is wrong, `expect.py` compares it with each of these and names the
mistake it matches. A label says what the code did and what the contract wants instead.
To teach the grader a new mistake, add one entry to the dict of the quantity it concerns.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import reference as ref
from .reference import F64, at

Wrong = dict[str, torch.Tensor]


def _shift(t: torch.Tensor, by: int, num_ts: int) -> torch.Tensor:
    return (t + by).clamp(0, num_ts - 1)


# -- schedules ---------------------------------------------------------------------------------


def linear_betas(beta_start: float, beta_end: float, num_ts: int) -> Wrong:
    return {
        "num_ts + 1 values (linspace over T + 1 points)": torch.linspace(beta_start, beta_end, num_ts + 1, dtype=F64),
        "num_ts - 1 values": torch.linspace(beta_start, beta_end, num_ts - 1, dtype=F64),
        "beta_end left out (arange-like spacing (end - start) / T); use torch.linspace, which includes both ends":
            beta_start + torch.arange(num_ts, dtype=F64) * (beta_end - beta_start) / num_ts,
        "reversed: beta_end first; t = 0 is the least noisy step":
            torch.linspace(beta_end, beta_start, num_ts, dtype=F64),
    }


def alphas_and_bars(betas: torch.Tensor) -> dict[str, Wrong]:
    """Wrong 'alphas' and 'alpha_bars' for given betas."""
    betas = betas.to(F64)
    alphas = 1 - betas
    return {
        "alphas": {"alphas = betas; the contract has alphas = 1 - betas": betas},
        "alpha_bars": {
            "alpha_bars = alphas; alpha_bars is the cumulative product of the alphas": alphas,
            "alpha_bars = cumulative product of the betas, not of the alphas": torch.cumprod(betas, 0),
            "alpha_bars = cumulative sum instead of cumulative product": torch.cumsum(alphas, 0),
            "alpha_bars shifted by one (starts at 1 = empty product); alpha_bars[0] = alphas[0]":
                torch.cat([torch.ones(1, dtype=F64), torch.cumprod(alphas, 0)[:-1]]),
        },
    }


def cosine_betas(num_ts: int, s: float = 0.008, max_beta: float = 0.999) -> Wrong:
    ab = ref.cosine_alpha_bar(num_ts, s)
    raw = 1 - ab[1:] / ab[:-1]
    no_s = ref.cosine_alpha_bar(num_ts, 0.0)
    f_no_square = torch.cos((torch.arange(num_ts + 1, dtype=F64) / num_ts + s) / (1 + s) * math.pi / 2)
    ab_ns = f_no_square / f_no_square[0]
    return {
        "betas not clipped at max_beta = 0.999 (the last beta is 1)": raw,
        "the offset s left out (s = 0)": (1 - no_s[1:] / no_s[:-1]).clamp(max=max_beta),
        "f(t) = cos(...) without the square": (1 - ab_ns[1:] / ab_ns[:-1]).clamp(max=max_beta),
        "returns alpha_bar(t) instead of the betas": ab[1:],
        "returns 1 - alpha_bar(t) instead of the betas": 1 - ab[1:],
        "num_ts + 1 betas (alpha_bar has T + 1 points, betas only T)": torch.cat([raw, raw[-1:]]).clamp(max=max_beta),
    }


def sigmoid_betas(beta_start: float, beta_end: float, num_ts: int, s_limit: float = 6.0) -> Wrong:
    t = torch.arange(num_ts, dtype=F64)
    span, s = beta_end - beta_start, s_limit
    return {
        "t runs 1 .. T instead of 0 .. T-1": beta_start + torch.sigmoid(-s + 2 * (t + 1) * s / num_ts) * span,
        "divides by T - 1 instead of T": beta_start + torch.sigmoid(-s + 2 * t * s / (num_ts - 1)) * span,
        "sigmoid not scaled by (beta_end - beta_start)": beta_start + torch.sigmoid(-s + 2 * t * s / num_ts),
        "sigmoid of (2 t s / T) without the -s shift": beta_start + torch.sigmoid(2 * t * s / num_ts) * span,
    }


# -- Part 1 noising -------------------------------------------------------------------------------


def add_noise(x: torch.Tensor, sigma: float, noise: torch.Tensor) -> Wrong:
    x, noise = x.to(F64), noise.to(F64)
    return {
        "sigma^2 * noise: sigma is the standard deviation, not the variance": x + sigma**2 * noise,
        "sqrt(sigma) * noise": x + math.sqrt(sigma) * noise,
        "(1 - sigma) x + sigma noise: Part 1 adds noise, it does not interpolate": (1 - sigma) * x + sigma * noise,
        "returns only sigma * noise (x not added)": sigma * noise,
    }


# -- DDPM forward process -------------------------------------------------------------------------


def q_sample(x0: torch.Tensor, t: torch.Tensor, sched: dict, noise: torch.Tensor) -> Wrong:
    x0, noise = x0.to(F64), noise.to(F64)
    ab, a = at(sched["alpha_bars"], t, x0), at(sched["alphas"], t, x0)
    num_ts = len(sched["betas"])
    shifted = {by: at(sched["alpha_bars"], _shift(t, by, num_ts), x0) for by in (-1, 1)}
    first = at(sched["alpha_bars"], t[:1].expand(len(t)), x0)
    return {
        "alpha_t used where the formula has alpha_bar_t (alphas instead of alpha_bars): that is one noising step, "
        "not the closed form over t steps": a.sqrt() * x0 + (1 - a).sqrt() * noise,
        "missing square roots: alpha_bar_t x0 + (1 - alpha_bar_t) noise": ab * x0 + (1 - ab) * noise,
        "missing square root on the noise coefficient: (1 - alpha_bar_t) noise": ab.sqrt() * x0 + (1 - ab) * noise,
        "missing square root on the x0 coefficient": ab * x0 + (1 - ab).sqrt() * noise,
        "t off by one: alpha_bar_{t-1}": shifted[-1].sqrt() * x0 + (1 - shifted[-1]).sqrt() * noise,
        "t off by one: alpha_bar_{t+1}": shifted[1].sqrt() * x0 + (1 - shifted[1]).sqrt() * noise,
        "coefficients swapped: sqrt(1 - alpha_bar_t) x0 + sqrt(alpha_bar_t) noise":
            (1 - ab).sqrt() * x0 + ab.sqrt() * noise,
        "every sample uses the first sample's t: index the schedule per sample":
            first.sqrt() * x0 + (1 - first).sqrt() * noise,
    }


def p_losses(
    x0: torch.Tensor, t: torch.Tensor, sched: dict, noise: torch.Tensor, loss_type: str = "l2",
    c: torch.Tensor | None = None,
) -> Wrong:
    num_ts = len(sched["betas"])
    x_t = ref.q_sample(x0, t, sched, noise)
    eps = ref.mock_eps(x_t, t / num_ts, c)
    noise = noise.to(F64)
    loss = (lambda p, q: F.l1_loss(p, q)) if loss_type == "l1" else (lambda p, q: F.mse_loss(p, q))
    other = (lambda p, q: F.mse_loss(p, q)) if loss_type == "l1" else (lambda p, q: F.l1_loss(p, q))
    a = at(sched["alphas"], t, x0)
    x_t_alpha = a.sqrt() * x0.to(F64) + (1 - a).sqrt() * noise
    return {
        "the UNet got the integer t instead of t / T (normalise the time)":
            loss(ref.mock_eps(x_t, t.to(F64), c), noise),
        "the UNet got t / (T - 1) instead of t / T": loss(ref.mock_eps(x_t, t / (num_ts - 1), c), noise),
        "the UNet got (t + 1) / T instead of t / T": loss(ref.mock_eps(x_t, (t + 1) / num_ts, c), noise),
        "predicts x0 instead of the noise: the target is the noise eps": loss(eps, x0.to(F64)),
        "compares the prediction with x_t instead of the noise": loss(eps, x_t),
        f"{'l2' if loss_type == 'l1' else 'l1'} loss where {loss_type} was asked": other(eps, noise),
        "sum instead of mean over all elements": loss(eps, noise) * eps.numel(),
        "mean over the batch of per-image sums (use the mean over all elements)": loss(eps, noise) * eps[0].numel(),
        "x_t built with alpha_t instead of alpha_bar_t": loss(ref.mock_eps(x_t_alpha, t / num_ts, c), noise),
        "the UNet got x0 instead of the noised x_t": loss(ref.mock_eps(x0, t / num_ts, c), noise),
    }


# -- DDPM reverse step ------------------------------------------------------------------------------


def p_sample(x_t: torch.Tensor, t: torch.Tensor, sched: dict, z: torch.Tensor, eps: torch.Tensor,
             eps_raw_t: torch.Tensor | None = None) -> Wrong:
    """Wrong x_{t-1} for a reverse step with UNet output eps (eps_raw_t: the output had the UNet
    been given the integer t)."""
    x_t, z = x_t.to(F64), z.to(F64)
    num_ts = len(sched["betas"])
    beta, alpha, ab = (at(sched[k], t, x_t) for k in ("betas", "alphas", "alpha_bars"))
    ab_prev = at(torch.cat([torch.ones(1, dtype=F64), sched["alpha_bars"][:-1].to(F64)]), t, x_t)
    beta_tilde = (1 - ab_prev) / (1 - ab) * beta
    mean = ref.posterior_mean(x_t, t, sched, eps)
    noisy = (t > 0).to(F64).reshape(beta.shape)
    prev = _shift(t, -1, num_ts)
    x0_mean = ab_prev.sqrt() * beta / (1 - ab) * eps + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * x_t
    wrong = {
        "sigma_t^2 = beta_tilde_t (the posterior variance); the contract uses sigma_t^2 = beta_t":
            mean + noisy * beta_tilde.sqrt() * z,
        "sigma_t = beta_t: missing square root on the noise scale": mean + noisy * beta * z,
        "noise added at t = 0 too; the last step adds no noise": mean + beta.sqrt() * z,
        "no noise added (z ignored)": mean,
        "noise subtracted instead of added": mean - noisy * beta.sqrt() * z,
        "alpha_bar_t instead of alpha_t in the 1 / sqrt(alpha_t) factor":
            (x_t - beta / (1 - ab).sqrt() * eps) / ab.sqrt() + noisy * beta.sqrt() * z,
        "missing square root on (1 - alpha_bar_t) in the eps coefficient":
            (x_t - beta / (1 - ab) * eps) / alpha.sqrt() + noisy * beta.sqrt() * z,
        "eps coefficient sqrt(1 - alpha_bar_t) instead of beta_t / sqrt(1 - alpha_bar_t)":
            (x_t - (1 - ab).sqrt() * eps) / alpha.sqrt() + noisy * beta.sqrt() * z,
        "treats the UNet output as x0 (x0-prediction posterior mean) instead of the noise eps":
            x0_mean + noisy * beta.sqrt() * z,
        "t off by one: schedule read at t - 1": ref.p_sample(x_t, prev, sched, eps, z),
        "alpha_bar_{t-1} read as alpha_bars[t - 1], which wraps to the last entry at t = 0 (alpha_bar before "
        "step 0 is 1, so the last step returns x0_hat)": _wrapped_mean(x_t, t, sched, eps) + noisy * beta.sqrt() * z,
    }
    if eps_raw_t is not None:
        wrong["the UNet got the integer t instead of t / T (normalise the time)"] = ref.p_sample(
            x_t, t, sched, eps_raw_t, z
        )
    return wrong


def last_step(x: torch.Tensor, t0: torch.Tensor, sched: dict, eps: torch.Tensor) -> Wrong:
    """Wrong results of a sampler's last step (t = 0) from its input x and the UNet's output there."""
    return {
        "the last step's input returned (the t = 0 step is missing)": x,
        "alpha_bar_{t-1} read as alpha_bars[t - 1], which wraps to the last entry at t = 0 (alpha_bar before "
        "step 0 is 1, so the last step returns x0_hat)": _wrapped_mean(x, t0, sched, eps),
    }


def _wrapped_mean(x_t: torch.Tensor, t: torch.Tensor, sched: dict, eps: torch.Tensor) -> torch.Tensor:
    """The x0-form posterior mean with alpha_bar_{t-1} = alpha_bars[t - 1] read by index: right for t >= 1,
    the last entry at t = 0 (negative indices wrap)."""
    x_t = x_t.to(F64)
    beta, alpha, ab = (at(sched[k], t, x_t) for k in ("betas", "alphas", "alpha_bars"))
    ab_prev = at(sched["alpha_bars"].to(F64).roll(1), t, x_t)
    x0_hat = (x_t - (1 - ab).sqrt() * eps.to(F64)) / ab.sqrt()
    return ab_prev.sqrt() * beta / (1 - ab) * x0_hat + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * x_t


def guidance(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, scale: float) -> dict[str, torch.Tensor]:
    """Wrong classifier-free guidance combinations (UNet outputs, before the reverse step)."""
    return {
        "guidance sign flipped: eps_cond + g (eps_uncond - eps_cond)": eps_cond + scale * (eps_uncond - eps_cond),
        "(1 + g) instead of g: eps_uncond + (1 + g)(eps_cond - eps_uncond)": ref.cfg(eps_cond, eps_uncond, 1 + scale),
        "no guidance: the conditional output alone": eps_cond,
        "the unconditional output alone (c dropped)": eps_uncond,
        "g * eps_cond without the unconditional part": scale * eps_cond,
    }


# -- flow matching ----------------------------------------------------------------------------------


def fm_interpolate(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor | float) -> Wrong:
    return {
        "t and 1 - t swapped: x0 is noise (t = 0), x1 is data (t = 1)": ref.fm_interpolate(x1, x0, t),
        "x0 + t x1 (no 1 - t on x0)": x0.to(F64) + ref.fm_interpolate(torch.zeros_like(x0), x1, t),
    }


def fm_forward(x1: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, num_ts: int) -> Wrong:
    x1, noise, t = x1.to(F64), noise.to(F64), t.to(F64)
    x_t = ref.fm_interpolate(noise, x1, t)
    swapped = ref.fm_interpolate(x1, noise, t)
    u = ref.mock_eps(x_t, t)
    return {
        "target x0 - x1: the velocity points from noise to data, u = x1 - x0": F.mse_loss(u, noise - x1),
        "target x1 (the data) instead of the velocity x1 - x0": F.mse_loss(u, x1),
        "target x0 (the noise) instead of the velocity x1 - x0": F.mse_loss(u, noise),
        "interpolation swapped: x_t = t x0 + (1 - t) x1": F.mse_loss(ref.mock_eps(swapped, t), x1 - noise),
        "the UNet got t * num_ts: flow matching's t is already in [0, 1]":
            F.mse_loss(ref.mock_eps(x_t, t * num_ts), x1 - noise),
        "sum instead of mean over all elements": F.mse_loss(u, x1 - noise) * u.numel(),
        "l1 instead of the mean squared error": F.l1_loss(u, x1 - noise),
    }


def fm_sample(x0: torch.Tensor, num_ts: int, velocity) -> Wrong:
    """Wrong Euler integrations of `velocity` from the same start."""
    x0 = x0.to(F64)

    def run(times: list[float], step: float) -> torch.Tensor:
        x = x0
        for s in times:
            x = x + velocity(x, torch.full((x.shape[0],), s, dtype=F64)) * step
        return x

    n = num_ts
    return {
        "velocity evaluated at t = (i + 1) / n instead of i / n": run([(i + 1) / n for i in range(n)], 1 / n),
        "step size 1 / (n - 1) instead of 1 / n": run([i / (n - 1) for i in range(n)], 1 / (n - 1)),
        "step size 1 instead of 1 / n: each Euler step adds u(x, t) / num_ts": run([i / n for i in range(n)], 1.0),
        "integrates from t = 1 down to 0; flow matching goes from noise (t = 0) to data (t = 1)":
            run([1 - i / n for i in range(n)], 1 / n),
        "t given as an integer step i instead of i / n": run([float(i) for i in range(n)], 1 / n),
    }


def train_step(before: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, lr: float,
               grad_clip: float | None) -> Wrong:
    """The parameters after two train_step calls, when one part of the step is missing."""
    wrong = {
        "gradients not zeroed between steps (optimizer.zero_grad() missing): they accumulate":
            ref.sgd_steps(before, x, y, lr, grad_clip, zero_grad=False)[0],
        "optimizer.step() never called: the parameters did not change":
            ref.sgd_steps(before, x, y, lr, grad_clip, step=False)[0],
    }
    if grad_clip is not None:
        wrong["grad_clip ignored: clip the gradient norm (nn.utils.clip_grad_norm_) before optimizer.step()"] = (
            ref.sgd_steps(before, x, y, lr, grad_clip, clip=False)[0])
    return wrong


def noise_level(sigma: float) -> dict[str, float]:
    """The standard deviation of the noise a denoiser loss added, for known mistakes."""
    return {
        "sigma^2 * noise: sigma is the standard deviation, not the variance": sigma**2,
        "sqrt(sigma) * noise": math.sqrt(sigma),
        "no noise added: the UNet got the clean x": 0.0,
    }
