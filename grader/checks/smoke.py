"""Training smoke tests, the grader's verdicts: how big a run is on each device, the held-out inputs
and the cheap fakes, and the verdict on what came back from the worker. Pure functions of tensors:
grader/sandbox/training.py sends the requests (grader/worker/smoke.py does the training).

Sizes adapt to the device: on a CPU (CI has 2 cores) a narrow UNet and a few dozen steps,
so that the four runs together stay well under a minute; on CUDA the handout's widths and
more steps. The loss must fall by a clear margin: the mean of the last fifth of the steps
at most FALL times the mean of the first five.
"""

from __future__ import annotations

from typing import Any

import torch

from . import reference
from .expect import Mismatch, describe, expect_tensor, expect_true

FALL = 0.6
# The trained UNet, rebuilt with the returned weights, on held-out test digits the grader noised itself: its error
# must be at most BEAT times the best of the cheap fakes the grader computes (returning the input,
# zero, the mean digit, a blur, the nearest training image...). Measured on the 2-core CPU with the
# reference (2026-12-03): 0.41 (denoiser), 0.47 (ddpm_time), 0.47 (ddpm_class), 0.29 (flow).
BEAT = 0.85
N_HELD_OUT = 128
HELD_OUT_SEED, EVAL_SEED = 2026, 4242  # the grader's noise, t and sampler seed: the worker never sees them before
RERUN_STEPS = 3  # a short second run with the same seed must give the same first losses
PARTS = ("denoiser", "ddpm_time", "ddpm_class", "flow")

# One thread: on a busy 2-core machine two threads wait on each other and run 4x slower. T = 100 on a CPU:
# sampling costs T UNet calls, and 60 steps learn the noise of a 100-step chain better (measured ratio to the
# best cheap fake, 2026-12-03: ddpm_time 0.47 and ddpm_class 0.47 at T = 100; 0.66 and 0.65 at T = 300).
CPU = {"hidden": 8, "steps": 60, "batch": 32, "lr": 3e-3, "num_ts": 100, "budget_s": 15.0, "threads": 1}
CUDA = {"steps": 300, "batch": 128, "lr": 1e-3, "num_ts": 300, "budget_s": 20.0, "threads": 1}
CUDA_HIDDEN = {"denoiser": 128, "ddpm_time": 64, "ddpm_class": 64, "flow": 64}  # the handouts' D
SAMPLE_ALLOWANCE_S = 40.0  # sampling and the first call's imports, on top of the training budget


def settings(part: str, device: str) -> dict[str, Any]:
    return {**CUDA, "hidden": CUDA_HIDDEN[part]} if device.startswith("cuda") else dict(CPU)


def answer_dict(value: Any, what: str) -> dict[str, Any]:
    """The worker's answer to a training or evaluation request: a dict, or the submission's failure
    (the student owns the worker: its reply is checked like any answer, never trusted to be well formed)."""
    if not isinstance(value, dict):
        raise Mismatch(what, f"  the worker's answer is a {type(value).__name__}, not the dict of results it sends")
    return value


def expect_training(answer: dict[str, Any], cfg: dict[str, Any], what: str) -> torch.Tensor:
    """The loss is finite at every step, the run finished in its budget, and the loss fell."""
    losses = answer.get("losses")
    expect_true(isinstance(losses, torch.Tensor) and len(losses) > 0, f"{what}: the training loss",
                "  no training step completed")
    if answer.get("stopped") == "nonfinite":
        raise Mismatch(f"{what}: the training loss", f"  the loss became {losses[-1].item()} at step {len(losses)} "
                       f"(lr {cfg['lr']:g}, batch {cfg['batch']})",
                       "a NaN/inf loss: look for a division by sqrt(1 - alpha_bar) at a zero, log of 0, or an "
                       "unnormalised input")
    if answer.get("stopped") == "budget":
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
    same = (isinstance(again, torch.Tensor) and again.shape == (RERUN_STEPS,) and again.dtype == first.dtype
            and torch.allclose(first[:RERUN_STEPS], again, rtol=tol, atol=tol))
    expect_true(same, f"{what}: the same seed gives the same training run",
                f"  first losses {first[:RERUN_STEPS].tolist()}, then with the same seed {describe(again)}",
                "draw random numbers from torch's global generator (torch.randn/randint/rand) or from a generator "
                "made inside the call, not from one created once at import, so that torch.manual_seed fixes the run")


def expect_samples(answer: dict[str, Any], what: str, n: int) -> torch.Tensor:
    samples = expect_tensor(answer.get("samples"), f"{what}: the images it generates", (n, 1, 28, 28))
    expect_true(float(samples.std()) > 1e-4, f"{what}: the images it generates",
                "  every pixel of every image has the same value")
    return samples


def _blur(x: torch.Tensor, k: int) -> torch.Tensor:
    return torch.nn.functional.avg_pool2d(x, k, 1, k // 2, count_include_pad=False)


def _nearest(x: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
    """For each image of x, the image of `pool` closest to it (L2)."""
    flat, ref = x.flatten(1), pool.flatten(1)
    d = (flat**2).sum(1, keepdim=True) - 2 * flat @ ref.T + (ref**2).sum(1)
    return pool[d.argmin(1)]


def held_out(part: str, cfg: dict[str, Any], train_images: torch.Tensor, test: tuple[torch.Tensor, torch.Tensor],
             ) -> tuple[dict, torch.Tensor, dict]:
    """(inputs sent to the worker, the target kept here, the cheap fakes' predictions of it) for one
    part, on MNIST test digits (`test`: uint8 images and labels) with the grader's own noise and t."""
    images, labels = test
    gen = torch.Generator().manual_seed(HELD_OUT_SEED)
    idx = torch.randperm(len(images), generator=gen)[:N_HELD_OUT]
    x0 = images[idx].float() / 255.0
    c = torch.nn.functional.one_hot(labels[idx], 10).float()
    noise = torch.randn(x0.shape, generator=gen)
    pool = train_images.float() / 255.0
    mean = pool.mean(0, keepdim=True)
    if part == "denoiser":
        noisy = x0 + 0.5 * noise
        fakes = {"returning the noisy input": noisy, "zero": torch.zeros_like(x0), "the mean digit": mean.expand_as(x0),
                 "a 3x3 blur": _blur(noisy, 3), "a 5x5 blur": _blur(noisy, 5),
                 "the nearest training image": _nearest(noisy, pool)}
        return {"x": noisy}, x0, fakes
    if part == "purenoise":  # fed pure noise, the MSE-optimal output is the mean training digit
        fakes = {"zero": torch.zeros_like(x0), "returning the input": noise}
        return {"x": noise}, mean.expand_as(x0), fakes
    if part in ("flow", "fm_time"):
        t = torch.rand(N_HELD_OUT, generator=gen)
        tb = t[:, None, None, None]
        x_t = (1 - tb) * noise + tb * x0
        target = x0 - noise
        guess = (x_t - tb * mean) / (1 - tb).clamp(min=0.05)  # the noise, were x0 the mean digit
        fakes = {"zero": torch.zeros_like(x0), "returning x_t": x_t, "the mean digit": mean - guess}
        return {"x": x_t, "t": t} | ({"c": c} if part == "flow" else {}), target, fakes
    T = int(cfg["num_ts"])
    ab = reference.schedule(T, dtype=torch.float64)["alpha_bars"].float()
    t = torch.randint(0, T, (N_HELD_OUT,), generator=gen)
    a = ab[t][:, None, None, None]
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    fakes = {"zero": torch.zeros_like(x0), "returning x_t": x_t, "sqrt(1 - alpha_bar) x_t": (1 - a).sqrt() * x_t,
             "the mean digit": (x_t - a.sqrt() * mean) / (1 - a).sqrt()}
    inputs = {"x": x_t, "t": t.float() / T} | ({"c": c} if part == "ddpm_class" else {})
    return inputs, noise, fakes


def expect_learned(outputs: Any, target: torch.Tensor, fakes: dict[str, torch.Tensor], what: str,
                   on: str = "held-out digits") -> float:
    """The trained UNet predicts the held-out target better than every cheap fake, by a margin."""
    out = expect_tensor(outputs, f"{what}: the trained UNet on {on}", tuple(target.shape))
    err = float(((out.double() - target.double()) ** 2).mean())
    scores = {name: float(((f.double() - target.double()) ** 2).mean()) for name, f in fakes.items()}
    best = min(scores, key=scores.get)
    expect_true(err == err and err <= BEAT * scores[best], f"{what}: the trained UNet on {on}",
                f"  mean squared error {err:.4g} on {N_HELD_OUT} {on}; {best} gets "
                f"{scores[best]:.4g} (the trained UNet must do better than {BEAT:g}x that)",
                "the weights the training run returned do not predict better than a trivial rule: the UNet "
                "did not learn (check the loss's target and that the optimiser updates the UNet)")
    return err
