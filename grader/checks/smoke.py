"""Training smoke tests, the grader's side: how big a run is on each device, and the verdict
on what came back from the worker (grader/worker/smoke.py does the training).

Sizes adapt to the device: on a CPU (CI has 2 cores) a narrow UNet and a few dozen steps,
so that the four runs together stay well under a minute; on CUDA the handout's widths and
more steps. The loss must fall by a clear margin: the mean of the last fifth of the steps
at most FALL times the mean of the first five.
"""

from __future__ import annotations

from typing import Any

import torch

from . import data
from .expect import Mismatch, expect_tensor, expect_true

FALL = 0.6
RERUN_STEPS = 3  # a short second run with the same seed must give the same first losses
PARTS = ("denoiser", "ddpm_time", "ddpm_class", "flow")

# One thread: on a busy 2-core machine two threads wait on each other and run 4x slower.
CPU = {"hidden": 8, "steps": 60, "batch": 32, "lr": 3e-3, "num_ts": 300, "budget_s": 15.0, "threads": 1}
CUDA = {"steps": 300, "batch": 128, "lr": 1e-3, "num_ts": 300, "budget_s": 20.0, "threads": 1}
CUDA_HIDDEN = {"denoiser": 128, "ddpm_time": 64, "ddpm_class": 64, "flow": 64}  # the handouts' D
SAMPLE_ALLOWANCE_S = 40.0  # sampling and the first call's imports, on top of the training budget


def settings(part: str, device: str) -> dict[str, Any]:
    return {**CUDA, "hidden": CUDA_HIDDEN[part]} if device.startswith("cuda") else dict(CPU)


def run(student: Any, part: str, seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one part in the worker; returns (the worker's answer, the settings used)."""
    cfg = settings(part, student.device)
    try:
        images, labels = data.training_sample(cfg["steps"] * cfg["batch"] + 8, seed=seed)
    except data.DataMissing as exc:
        raise RuntimeError(str(exc)) from None  # the grader's setup, reported as a grader error
    answer = student.train(part, cfg, images, labels, timeout=cfg["budget_s"] + SAMPLE_ALLOWANCE_S, seed=seed)
    return answer, cfg


def rerun_losses(student: Any, part: str, seed: int = 0) -> torch.Tensor:
    cfg = {**settings(part, student.device), "steps": RERUN_STEPS}
    images, labels = data.training_sample(settings(part, student.device)["steps"] * cfg["batch"] + 8, seed=seed)
    answer = student.train(part, {**cfg, "sample": False}, images, labels,
                           timeout=cfg["budget_s"] + SAMPLE_ALLOWANCE_S, seed=seed)
    return answer["losses"]


def expect_training(answer: dict[str, Any], cfg: dict[str, Any], what: str) -> torch.Tensor:
    """The loss is finite at every step, the run finished in its budget, and the loss fell."""
    losses = answer["losses"]
    expect_true(isinstance(losses, torch.Tensor) and len(losses) > 0, f"{what}: the training loss",
                "  no training step completed")
    if answer["stopped"] == "nonfinite":
        raise Mismatch(f"{what}: the training loss", f"  the loss became {losses[-1].item()} at step {len(losses)} "
                       f"(lr {cfg['lr']:g}, batch {cfg['batch']})",
                       "a NaN/inf loss: look for a division by sqrt(1 - alpha_bar) at a zero, log of 0, or an "
                       "unnormalised input")
    if answer["stopped"] == "budget":
        raise Mismatch(f"{what}: the time budget",
                       f"  only {len(losses)} of {cfg['steps']} training steps ran within the budget of "
                       f"{cfg['budget_s']:g} s (hidden width {cfg['hidden']}, batch {cfg['batch']})",
                       "a training step is far slower than the reference's: is something (a schedule, the whole "
                       "data set) recomputed or copied at every step?")
    start, end = losses[:5].mean().item(), losses[-max(1, len(losses) // 5):].mean().item()
    expect_true(end <= FALL * start, f"{what}: the training loss falls",
                f"  mean loss over the first 5 steps {start:.4g}, over the last {max(1, len(losses) // 5)} "
                f"steps {end:.4g} (it must fall to at most {FALL:g}x the start within {cfg['steps']} steps)",
                "the loss does not go down: check that the loss compares the UNet's prediction with the right "
                "target and that gradients reach the UNet (no .detach() or torch.no_grad() in the loss)")
    return losses


def expect_reproducible(first: torch.Tensor, again: torch.Tensor, what: str, device: str) -> None:
    tol = 0.0 if device == "cpu" else 1e-4  # GPU reductions may reorder additions
    same = len(again) == RERUN_STEPS and torch.allclose(first[:RERUN_STEPS], again, rtol=tol, atol=tol)
    expect_true(same, f"{what}: the same seed gives the same training run",
                f"  first losses {first[:RERUN_STEPS].tolist()}, then with the same seed {again.tolist()}",
                "draw random numbers from torch's global generator (torch.randn/randint/rand) or from a generator "
                "made inside the call, not from one created once at import, so that torch.manual_seed fixes the run")


def expect_samples(answer: dict[str, Any], what: str, n: int) -> torch.Tensor:
    samples = expect_tensor(answer.get("samples"), f"{what}: the images it generates", (n, 1, 28, 28))
    expect_true(float(samples.std()) > 1e-4, f"{what}: the images it generates",
                "  every pixel of every image has the same value")
    return samples
