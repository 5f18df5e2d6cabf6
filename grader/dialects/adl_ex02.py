"""FAU ADL Exercise 2: a `Diffusion` class (ex02_diffusion.py) whose methods the grader probes
through the worker's adapter (grader/worker/dialects/adl_ex02.py).

What applies: the schedules (the given linear one, and cosine and sigmoid, TODO 2.3, by this
course's looser definitions), q_sample, p_losses and p_sample (TODO 2.2 and the methods), and the
sampler `sample`. Not part of it: the CS180 UNet (ADL hands out its own `Unet`), Part 1's denoiser,
the contract's `ddpm_schedule` dict, `ddpm_forward` (ADL draws t in its training script), class
conditioning through the contract's `c` (ADL's TODO 2.4 conditions its own Unet), a seeded sampler
and its GIF frames, flow matching, training and the deliverable figures. p_sample's check of the UNet's
time is left to p_losses and the sampler: ADL steps one t for a whole batch, so a batch of four times is
four calls. The course's own tests (cosine and sigmoid as it defines them, either choice of the reverse
step's variance) are declared in the catalog with `dialects=("adl-ex02",)`.
"""

from __future__ import annotations

from .base import Dialect, where


def _detect(defined: dict[str, set[str]]) -> str | None:
    if "ex02_diffusion" in defined:
        return "it has ex02_diffusion.py"
    stem = where(defined, "Diffusion.q_sample") or where(defined, "Diffusion.p_losses")
    return f"{stem}.py defines the class Diffusion with q_sample / p_losses" if stem else None


ADL_EX02 = Dialect(
    name="adl-ex02",
    title="FAU ADL Exercise 2 (ex02_diffusion.py: linear/cosine/sigmoid_beta_schedule and the Diffusion class)",
    also=(
        "test_linear_schedule",
        "test_q_sample_closed_form", "test_q_sample_per_sample_t", "test_q_sample_default_noise",
        "test_q_sample_dtype_device", "test_q_sample_matches_chain",
        "test_p_losses_l2", "test_p_losses_l1", "test_p_losses_unet_inputs",
        "test_p_sample_mean", "test_p_sample_no_noise_at_t0",
        "test_ddpm_sample_calls", "test_ddpm_sample_timesteps", "test_ddpm_sample_last_step",
    ),
    modules=("ex02_diffusion", "ex02_model", "ex02_main", "ex02_helpers", "ex02_tests"),
    adapter="adl_ex02",
    detect=_detect,
)
