"""Training smoke runs, inside the worker: the student's UNet, trained with the student's own
loss on real MNIST batches (sent by the grader), then sampled with the student's sampler.

    {"op": "train", "part": "ddpm_class", "images": uint8 (N, 1, 28, 28), "labels": (N,),
     "hidden": 8, "steps": 60, "batch": 32, "lr": 3e-3, "num_ts": 100, "budget_s": 15,
     "threads": 2, "seed": 0, "weights": True, "sample": False}
    -> {"losses": float64 (steps run,), "state": {...} (with "weights"), "samples": (n, 1, 28, 28)
        (with "sample"), "train_s": ..., "stopped": None | "budget" | "nonfinite"}

    {"op": "evaluate", ...}: see evaluate()

Only numbers and images go back; every verdict is computed in the grader.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .failures import StudentFailure

SIGMA = 0.5  # Part 1.2.1's noise level
GUIDANCE = 5.0
NUM_CLASSES = 10
N_TIME_SAMPLES = 8

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Sampler = Callable[[], dict[str, torch.Tensor]]
STUCK_S = 10.0  # past the training budget, a step still running is stuck (an infinite loop in the student's code)


@contextlib.contextmanager
def _stuck_after(seconds: float, what: str) -> Iterator[None]:
    """Stop a stuck step from inside the worker, so an honest student hears of it at once and the
    grade goes on in the same worker. (Only a courtesy: the grader's own deadline stays the limit.)"""
    def stop(signum: int, frame: Any) -> None:
        raise StudentFailure("timeout", f"{what} did not finish within {seconds:g} s, its training budget and "
                                        f"{STUCK_S:g} s more (an infinite loop, or far too slow?)")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _schedule(mods: dict[str, Any], num_ts: int, device: torch.device) -> dict[str, torch.Tensor]:
    sched = mods["schedules"].ddpm_schedule(1e-4, 0.02, num_ts)
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in sched.items()}


def _same_shape(got: object, x: torch.Tensor, what: str) -> torch.Tensor:
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        raise ValueError(f"{what} returned {shape} for a batch of shape {tuple(x.shape)}: "
                         f"expected shape {tuple(x.shape)}")
    return got


def _part(part: str, mods: dict[str, Any], req: dict[str, Any], device: torch.device,
          held_out: torch.Tensor) -> tuple[nn.Module, LossFn, Sampler]:
    """The student's model, loss and sampler for one trainable part of the assignment."""
    diffusion, flow = mods["diffusion"], mods.get("flow")
    D, T = int(req["hidden"]), int(req["num_ts"])
    model = _model(part, mods["unet"], D)

    if part == "denoiser":
        noise = torch.randn(held_out.shape, generator=torch.Generator().manual_seed(1)).to(device)

        def denoise() -> dict[str, torch.Tensor]:
            noisy = diffusion.add_noise(held_out, SIGMA, noise=noise)
            return {"samples": model(noisy), "noisy": noisy, "clean": held_out}

        def loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            noisy = _same_shape(diffusion.add_noise(x, SIGMA), x, "add_noise(x, 0.5)")
            return F.mse_loss(_same_shape(model(noisy), x, "UnconditionalUNet(noisy)"), x)

        return model, loss, denoise

    def sample() -> dict[str, torch.Tensor]:
        return {"samples": _sample_with(part, mods, model, T, device, seed=0)}

    def one_hot(y: torch.Tensor) -> torch.Tensor:
        return F.one_hot(y, NUM_CLASSES).float()

    if part == "ddpm_time":
        sched = _schedule(mods, T, device)
        return model, lambda x, y: diffusion.ddpm_forward(model, sched, x, T), sample
    if part == "ddpm_class":
        sched = _schedule(mods, T, device)
        return model, lambda x, y: diffusion.ddpm_forward(model, sched, x, T, c=one_hot(y), p_uncond=0.1), sample
    if part == "flow":
        return model, lambda x, y: flow.fm_forward(model, x, T, c=one_hot(y), p_uncond=0.1), sample
    raise ValueError(f"unknown smoke part {part!r}")


def train(import_module: Callable[[str], Any], req: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Train for req["steps"] steps (or until the time budget runs out), then sample once."""
    torch.set_num_threads(int(req.get("threads", 1)))
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True  # the rerun must reproduce the losses
        torch.backends.cudnn.benchmark = False
    names = ["unet", "schedules", "diffusion"] + (["flow"] if req["part"] == "flow" else [])
    mods = {name: import_module(name) for name in names}
    images = req["images"].to(device, torch.float32) / 255.0  # MNIST pixels in [0, 1], as in the handout
    labels = req["labels"].to(device, torch.long)
    held_out, images, labels = images[:8], images[8:], labels[8:]
    with _stuck_after(float(req["budget_s"]) + STUCK_S, f"the training smoke run of {req['part']}"):
        model, losses, stopped, train_s, sample = _train(mods, req, device, images, labels, held_out)

    answer: dict[str, Any] = {"losses": torch.tensor(losses, dtype=torch.float64), "stopped": stopped,
                              "train_s": train_s, "steps": int(req["steps"])}
    if req.get("weights"):  # for the grader to judge them on inputs the run never saw
        answer["state"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if req.get("sample", False) and stopped is None:  # (the grader samples from the returned weights instead)
        start = time.monotonic()
        model.eval()
        with torch.no_grad():
            out = sample()
        answer.update({k: v.detach().float().cpu() if isinstance(v, torch.Tensor) else v for k, v in out.items()})
        answer["sample_s"] = time.monotonic() - start
    return answer


def _train(mods: dict[str, Any], req: dict[str, Any], device: torch.device, images: torch.Tensor,
           labels: torch.Tensor, held_out: torch.Tensor) -> tuple[nn.Module, list[float], str | None, float, Sampler]:
    """The training loop: the model, its losses, why it stopped early (if it did), seconds, its sampler."""
    batch, steps = int(req["batch"]), int(req["steps"])
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(int(req.get("seed", 0))))
    model, loss_fn, sample = _part(req["part"], mods, req, device, held_out)
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=float(req["lr"]))

    losses: list[float] = []
    stopped = None
    start = time.monotonic()
    for i in range(steps):
        idx = order[(i * batch) % len(order):][:batch].to(device)
        loss = loss_fn(images[idx], labels[idx])
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise TypeError(f"the loss is {type(loss).__name__} of shape {tuple(getattr(loss, 'shape', ()))}, "
                            "not a scalar tensor")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if not torch.isfinite(torch.tensor(losses[-1])):
            stopped = "nonfinite"
            break
        if time.monotonic() - start > float(req["budget_s"]):
            stopped = "budget"
            break
    return model, losses, stopped, time.monotonic() - start, sample


PARTS = ("denoiser", "purenoise", "ddpm_time", "ddpm_class", "fm_time", "flow")


def _model(part: str, unet: Any, hidden: int, modulation: str = "add") -> nn.Module:
    """The student's UNet class of one part, built at width `hidden`."""
    if part not in PARTS:
        raise ValueError(f"unknown smoke part {part!r}")
    if part in ("denoiser", "purenoise"):
        return unet.UnconditionalUNet(1, hidden)
    if part in ("ddpm_time", "fm_time"):  # the handout's product modulation only when the run used it
        extra = {"modulation": modulation} if modulation != "add" else {}
        return unet.TimeConditionalUNet(1, NUM_CLASSES, hidden, **extra)
    return unet.ClassConditionalUNet(1, NUM_CLASSES, hidden)


def _state(req: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The weights to load: a training run's state_dict, or the bytes of a submitted weights/<run>.pt
    (read here, in the sandbox, never in the grader)."""
    if req.get("weights") is None:
        return req["state"]
    import io

    state = torch.load(io.BytesIO(req["weights"].numpy().tobytes()), map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise TypeError("the weights file does not hold a state_dict (a dict of tensors): save "
                        "unet.state_dict() with torch.save")
    return state


def evaluate(import_module: Callable[[str], Any], req: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """The student's UNet of one part with given weights (a training run's, or a submission's
    weights/<run>.pt), on the grader's inputs: x (noisy held-out digits, x_t, or pure noise), t
    (normalised, as the contract passes it to the UNet), c (one-hot). The targets stay with the
    grader. Then the student's sampler with a seed the grader chose, for the images it makes.

    {"op": "evaluate", "part": ..., "hidden": D, "num_ts": T, "state": {...} | "weights": uint8 bytes,
     "modulation": "add", "x": ..., "t": ..., "c": ..., "seed": S, "rows": 1}
    -> {"outputs": (N, 1, 28, 28) (when x is sent), "samples": (n, 1, 28, 28) (when rows > 0)}"""
    torch.set_num_threads(int(req.get("threads", 1)))
    part, T = req["part"], int(req["num_ts"])
    names = ["unet", "schedules", "diffusion"] + (["flow"] if part in ("flow", "fm_time") else [])
    mods = {name: import_module(name) for name in names}
    model = _model(part, mods["unet"], int(req["hidden"]), str(req.get("modulation", "add")))
    model.load_state_dict(_state(req))
    model = model.to(device).eval()
    answer: dict[str, Any] = {}
    with torch.no_grad():
        if req.get("x") is not None:
            x = req["x"].to(device, torch.float32)
            t = req["t"].to(device, torch.float32) if req.get("t") is not None else None
            c = req["c"].to(device, torch.float32) if req.get("c") is not None else None
            if part in ("denoiser", "purenoise"):
                out = model(x)
            elif part in ("ddpm_time", "fm_time"):
                out = model(x, t)
            else:
                out = model(x, c, t)
            answer["outputs"] = _same_shape(out, x, "the UNet").detach().float().cpu()
        if int(req.get("rows", 1)) > 0:
            samples = _sample_with(part, mods, model, T, device, int(req["seed"]), int(req.get("rows", 1)))
            answer["samples"] = samples.detach().float().cpu()
    return answer


def _sample_with(part: str, mods: dict[str, Any], model: nn.Module, T: int, device: torch.device,
                 seed: int, rows: int = 1) -> torch.Tensor:
    """Samples of the student's sampler: rows x 10 (class-conditioned: column k is digit k) or
    rows x N_TIME_SAMPLES (time-only); none for the Part 1 denoisers."""
    classes = F.one_hot(torch.arange(NUM_CLASSES, device=device).repeat(rows), NUM_CLASSES).float()
    if part in ("denoiser", "purenoise"):
        return torch.zeros(0, 1, 28, 28)
    if part == "flow":
        return mods["flow"].fm_sample(model, (28, 28), T, seed=seed, c=classes, guidance_scale=GUIDANCE)
    if part == "fm_time":
        return mods["flow"].fm_sample(model, (28, 28), T, seed=seed, num_samples=rows * N_TIME_SAMPLES)
    sched = _schedule(mods, T, device)
    if part == "ddpm_time":
        return mods["diffusion"].ddpm_sample(model, sched, (28, 28), T, seed=seed, num_samples=rows * N_TIME_SAMPLES)
    return mods["diffusion"].ddpm_sample(model, sched, (28, 28), T, seed=seed, c=classes, guidance_scale=GUIDANCE)


def step(train_step: Callable[..., Any], req: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Two calls of the student's train_step on a small linear regression with plain SGD, so
    the grader can recompute both updates: the weights before and after, and what each call
    returned. A second call shows whether gradients were zeroed between steps. (serve.py has
    seeded torch from the request, so the layer's initial weights are reproducible.)"""
    x, y = req["x"].to(device), req["y"].to(device)
    model = nn.Linear(x.shape[1], y.shape[1]).to(device)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=float(req["lr"]))

    def loss_fn(m: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(m(xb), yb)

    returned = [train_step(model, optimizer, loss_fn, x, y, req.get("grad_clip")) for _ in range(2)]
    after = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return {"before": before, "after": after, "returned": returned,
            "returned_types": [type(r).__name__ for r in returned]}
