"""Noising and DDPM (Part 1.2 and Part 2): forward process, loss, sampler.

Conventions: images are (N, C, H, W) float tensors; `t` is an integer index 0 .. T-1 into
the schedule (`sched` from `ddpm_schedule`); the UNet always receives the normalised time
t / T. A class-conditioned UNet is called as `unet(x, c, t)`, a time-only one as
`unet(x, t)`; `c` is one-hot (N, 10) and an all-zero row means "no class".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .schedules import ddpm_schedule

Schedule = dict[str, torch.Tensor]


def add_noise(x: torch.Tensor, sigma: float, noise: torch.Tensor | None = None) -> torch.Tensor:
    """Part 1 noising: z = x + sigma * noise, noise ~ N(0, I) unless given."""
    # BEGIN SOLUTION: draw noise with torch.randn_like when it is None and return x + sigma * noise
    if noise is None:
        noise = torch.randn_like(x)
    return x + sigma * noise
    # END SOLUTION


def _at(values: torch.Tensor, t: torch.Tensor | int, x: torch.Tensor) -> torch.Tensor:
    """values[t] shaped (N, 1, 1, 1) to broadcast against x, on x's device and dtype."""
    t = torch.as_tensor(t, device=values.device).long()
    v = values[t].to(device=x.device, dtype=x.dtype)
    return v.reshape(-1, *([1] * (x.dim() - 1)))


def _timesteps(t: torch.Tensor | int, x: torch.Tensor) -> torch.Tensor:
    """Integer timesteps as a LongTensor (N,) on x's device (an int is used for every sample)."""
    t = torch.as_tensor(t, device=x.device).long()
    return t.expand(x.shape[0]) if t.dim() == 0 else t


def call_unet(unet: nn.Module, x: torch.Tensor, t_norm: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
    """Time-only UNets take (x, t); class-conditioned ones take (x, c, t)."""
    return unet(x, t_norm) if c is None else unet(x, c, t_norm)


def guided_prediction(
    unet: nn.Module,
    x: torch.Tensor,
    t_norm: torch.Tensor,
    c: torch.Tensor | None = None,
    guidance_scale: float | None = None,
) -> torch.Tensor:
    """The UNet's output, with classifier-free guidance when c and guidance_scale are given:
    out = out_uncond + guidance_scale * (out_cond - out_uncond), where "uncond" is c = 0."""
    # BEGIN SOLUTION: without c (or without a guidance scale) return call_unet's output; otherwise call the UNet with
    #   c and with torch.zeros_like(c) and combine | guidance_scale = 1 must give the plain conditional output
    if c is None or guidance_scale is None:
        return call_unet(unet, x, t_norm, c)
    out_cond = call_unet(unet, x, t_norm, c)
    out_uncond = call_unet(unet, x, t_norm, torch.zeros_like(c))
    return out_uncond + guidance_scale * (out_cond - out_uncond)
    # END SOLUTION


def class_dropout(c: torch.Tensor, p_uncond: float, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Zero each row of c with probability p_uncond (or where a given 0/1 mask is 0)."""
    # BEGIN SOLUTION: draw mask = (torch.rand(N) >= p_uncond) when it is None and return c * mask as a column | the
    #   mask must be float and on c's device
    if mask is None:
        mask = torch.rand(c.shape[0], device=c.device) >= p_uncond
    return c * mask.to(device=c.device, dtype=c.dtype).reshape(-1, 1)
    # END SOLUTION


def q_sample(
    x0: torch.Tensor, t: torch.Tensor | int, sched: Schedule, noise: torch.Tensor | None = None
) -> torch.Tensor:
    """Forward process in closed form: x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) noise."""
    # BEGIN SOLUTION: look up alpha_bars at t per sample (shape (N, 1, 1, 1)), draw noise when None, and apply the
    #   formula | alpha_bars, not alphas
    if noise is None:
        noise = torch.randn_like(x0)
    ab = _at(sched["alpha_bars"], t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    # END SOLUTION


def p_losses(
    unet: nn.Module,
    x0: torch.Tensor,
    t: torch.Tensor,
    sched: Schedule,
    noise: torch.Tensor | None = None,
    loss_type: str = "l2",
    c: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean over all elements of |eps_theta(x_t, t / T [, c]) - noise|^2 ("l2") or |.| ("l1").
    `mask` (N,) of 0/1 zeroes the class of the samples where it is 0."""
    if loss_type not in ("l1", "l2"):
        raise ValueError(f"loss_type must be 'l1' or 'l2', got {loss_type!r}")
    # BEGIN SOLUTION: draw noise when None, noise x0 with q_sample, apply the class mask (class_dropout), predict the
    #   noise from (x_t, t / T [, c]) and compare it with the true noise | T is the schedule's length; the UNet gets t
    #   / T as a float
    if noise is None:
        noise = torch.randn_like(x0)
    t = _timesteps(t, x0)
    x_t = q_sample(x0, t, sched, noise)
    if c is not None and mask is not None:
        c = class_dropout(c, 0.0, mask)
    t_norm = t.to(x0.dtype) / len(sched["betas"])
    eps = call_unet(unet, x_t, t_norm, c)
    if loss_type == "l1":
        return F.l1_loss(eps, noise)
    return F.mse_loss(eps, noise)
    # END SOLUTION


def p_sample(
    unet: nn.Module,
    x_t: torch.Tensor,
    t: torch.Tensor | int,
    sched: Schedule,
    z: torch.Tensor | None = None,
    c: torch.Tensor | None = None,
    guidance_scale: float | None = None,
) -> torch.Tensor:
    """One reverse step x_t -> x_{t-1}:
    mean = (x_t - beta_t / sqrt(1 - ab_t) * eps) / sqrt(alpha_t), plus sqrt(beta_t) z except at t = 0."""
    # BEGIN SOLUTION: predict eps with guided_prediction at t / T, form the mean, and add sqrt(beta_t) * z only where
    #   t > 0 | sigma_t^2 = beta_t; z ~ N(0, I) when None
    t = _timesteps(t, x_t)
    t_norm = t.to(x_t.dtype) / len(sched["betas"])
    eps = guided_prediction(unet, x_t, t_norm, c, guidance_scale)
    beta, alpha, ab = (_at(sched[k], t, x_t) for k in ("betas", "alphas", "alpha_bars"))
    mean = (x_t - beta / (1 - ab).sqrt() * eps) / alpha.sqrt()
    if z is None:
        z = torch.randn_like(x_t)
    nonzero = (t > 0).to(x_t.dtype).reshape(-1, *([1] * (x_t.dim() - 1)))
    return mean + nonzero * beta.sqrt() * z
    # END SOLUTION


def ddpm_forward(
    unet: nn.Module,
    sched: Schedule,
    x0: torch.Tensor,
    num_ts: int,
    c: torch.Tensor | None = None,
    p_uncond: float = 0.1,
    noise: torch.Tensor | None = None,
    t: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Training loss of one batch: t ~ U{0 .. T-1} per sample, the class dropped with
    probability p_uncond, then p_losses. noise, t and mask can be fixed for tests."""
    # BEGIN SOLUTION: draw t with torch.randint(0, num_ts, (N,)) when None; with c, draw the dropout mask
    #   (torch.rand(N) >= p_uncond) when None; return p_losses(...)
    if t is None:
        t = torch.randint(0, num_ts, (x0.shape[0],), device=x0.device)
    if c is not None and mask is None:
        mask = torch.rand(x0.shape[0], device=x0.device) >= p_uncond
    return p_losses(unet, x0, t, sched, noise=noise, c=c, mask=mask)
    # END SOLUTION


def model_device(unet: nn.Module, c: torch.Tensor | None = None) -> torch.device:
    """Where to sample: the device of c, else of the UNet's first parameter, else the CPU."""
    if c is not None:
        return c.device
    param = next(unet.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@torch.no_grad()
def ddpm_sample(
    unet: nn.Module,
    sched: Schedule,
    img_wh: tuple[int, int],
    num_ts: int,
    seed: int = 0,
    c: torch.Tensor | None = None,
    guidance_scale: float | None = 5.0,
    num_samples: int | None = None,
    channels: int = 1,
    frame_every: int | None = None,
    progress: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
    """Algorithm B.2 / B.4: start at x_{T-1} ~ N(0, I) and apply p_sample for t = T-1 .. 0.

    The batch is len(c) with classes, else num_samples. All randomness comes from a
    generator seeded with `seed`. With frame_every = k, also returns the list of every k-th
    intermediate image (on the CPU) for GIFs, ending with the final one.
    """
    n = len(c) if c is not None else num_samples
    if n is None:
        raise ValueError("give c (class-conditioned) or num_samples (time-only)")
    device = model_device(unet, c)
    gen = torch.Generator(device=device).manual_seed(seed)
    shape = (n, channels, img_wh[1], img_wh[0])
    frames: list[torch.Tensor] = []
    steps = tqdm(range(num_ts - 1, -1, -1), desc="DDPM sampling", disable=not progress, leave=False)
    # BEGIN SOLUTION: draw x from N(0, I) with the generator, then for t in steps (num_ts-1 down to 0) draw z
    #   with the same generator and step with p_sample (keep a frame every frame_every steps when asked)
    #   | same seed -> same images
    x = torch.randn(shape, generator=gen, device=device)
    for i, t in enumerate(steps):
        z = torch.randn(shape, generator=gen, device=device)
        x = p_sample(unet, x, t, sched, z=z, c=c, guidance_scale=guidance_scale)
        if frame_every and (i % frame_every == 0 or t == 0):
            frames.append(x.detach().cpu())
    return (x, frames) if frame_every else x
    # END SOLUTION


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """Sample in eval mode (BatchNorm uses its running statistics), then restore the mode."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


class DDPM(nn.Module):
    """The UNet and its schedule, as in the CS180 notebook: forward gives the loss, sample images."""

    def __init__(
        self,
        unet: nn.Module,
        betas: tuple[float, float] = (1e-4, 0.02),
        num_ts: int = 300,
        p_uncond: float = 0.1,
        kind: str = "linear",
    ) -> None:
        super().__init__()
        self.unet = unet
        self.num_ts = num_ts
        self.p_uncond = p_uncond
        # Buffers follow the module across .to(device) but are not saved: they are derived.
        for name, value in ddpm_schedule(betas[0], betas[1], num_ts, kind).items():
            self.register_buffer(name, value, persistent=False)

    @property
    def sched(self) -> Schedule:
        return {"betas": self.betas, "alphas": self.alphas, "alpha_bars": self.alpha_bars}

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return ddpm_forward(self.unet, self.sched, x, self.num_ts, c, self.p_uncond)

    @torch.no_grad()
    def sample(
        self,
        img_wh: tuple[int, int],
        seed: int = 0,
        c: torch.Tensor | None = None,
        guidance_scale: float | None = 5.0,
        **kwargs,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        with eval_mode(self):
            return ddpm_sample(self.unet, self.sched, img_wh, self.num_ts, seed, c, guidance_scale, **kwargs)
