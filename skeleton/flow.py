# Generated from the reference by tools/make_skeleton.py: do not edit by hand.
"""Flow matching (the assignment's flow-matching part): learn the velocity that carries noise to data.

x0 ~ N(0, I) is noise, x1 is a data image, t ~ U[0, 1] and x_t = (1 - t) x0 + t x1 moves
in a straight line at velocity u = x1 - x0. The UNet u_theta(x_t, t [, c]) regresses u;
sampling integrates dx/dt = u_theta from t = 0 (noise) to t = 1 (data) with Euler steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .diffusion import call_unet, class_dropout, eval_mode, guided_prediction, model_device


def fm_interpolate(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """x_t = (1 - t) x0 + t x1, with t a scalar or one value per sample ((N,) or (N, 1))."""
    raise NotImplementedError(
        'TODO(fm_interpolate): reshape a per-sample t to (N, 1, 1, 1) so it broadcasts, then '
        'interpolate.'
    )


def fm_forward(
    unet: nn.Module,
    x1: torch.Tensor,
    num_ts: int,
    c: torch.Tensor | None = None,
    p_uncond: float = 0.1,
    noise: torch.Tensor | None = None,
    t: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Training loss of one batch: mean squared error between u_theta(x_t, t [, c]) and
    x1 - x0. noise (x0), t (N,) and the class-dropout mask can be fixed for tests."""
    raise NotImplementedError(
        'TODO(fm_forward): draw x0 = noise ~ N(0, I) and t ~ U[0, 1) per sample when None, '
        "interpolate, drop classes with class_dropout, and regress the UNet's output onto x1 - x0. "
        'Hint: num_ts is not needed for the loss: t is continuous.'
    )


@torch.no_grad()
def fm_sample(
    unet: nn.Module,
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
    """Euler integration of dx/dt = u_theta(x, t [, c]) from t = 0 to 1 in num_ts steps of
    1 / num_ts, starting at x ~ N(0, I) drawn from a generator seeded with `seed`.
    Classifier-free guidance as in DDPM; frame_every as in ddpm_sample."""
    n = len(c) if c is not None else num_samples
    if n is None:
        raise ValueError("give c (class-conditioned) or num_samples (time-only)")
    device = model_device(unet, c)
    gen = torch.Generator(device=device).manual_seed(seed)
    frames: list[torch.Tensor] = []
    steps = tqdm(range(num_ts), desc="Euler sampling", disable=not progress, leave=False)
    raise NotImplementedError(
        'TODO(fm_sample): draw x with the generator, then for i in steps (0 .. num_ts-1) evaluate the'
        ' (guided) velocity at t = i / num_ts (one value per sample) and step x += u / num_ts. Hint: '
        'keep a frame every frame_every steps when asked.'
    )


class FlowMatching(nn.Module):
    """The UNet wrapped like DDPM: forward gives the training loss, sample gives images."""

    def __init__(self, unet: nn.Module, num_ts: int = 300, p_uncond: float = 0.1) -> None:
        super().__init__()
        self.unet = unet
        self.num_ts = num_ts
        self.p_uncond = p_uncond

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return fm_forward(self.unet, x, self.num_ts, c, self.p_uncond)

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
            return fm_sample(self.unet, img_wh, self.num_ts, seed, c, guidance_scale, **kwargs)
