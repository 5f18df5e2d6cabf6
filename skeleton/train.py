# Generated from the reference by tools/make_skeleton.py: do not edit by hand.
"""Training: the per-part losses, one optimisation step, and a loop that checkpoints every
epoch and resumes from the last checkpoint when a run is restarted.

A checkpoint (`<ckpt_dir>/last.pt`) holds the model, optimizer, LR scheduler, every random
generator's state and the loss log, so a resumed run continues exactly where it stopped.
The weights of the snapshot epochs (`epoch005.pt`, ...) are kept for the figures.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .config import RunConfig
from .data import batches, one_hot
from .diffusion import DDPM, add_noise
from .flow import FlowMatching
from .unet import ClassConditionalUNet, TimeConditionalUNet, UnconditionalUNet

# loss_fn(model, images, labels) -> scalar loss of one batch
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def denoiser_loss(unet: nn.Module, x: torch.Tensor, sigma: float = 0.5) -> torch.Tensor:
    """Part 1.2.1: L2 between the denoised z = x + sigma * eps and the clean x (fresh eps each call)."""
    raise NotImplementedError(
        'TODO(denoiser_loss): noise the clean batch with add_noise, denoise it with the UNet, and '
        'return the mean squared error against the clean batch.'
    )


def pure_noise_loss(unet: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Part 1.2.3: L2 between the UNet's output on pure noise z = eps and the clean x."""
    raise NotImplementedError(
        'TODO(pure_noise_loss): feed torch.randn_like(x) to the UNet and return the mean squared '
        'error against x.'
    )


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    x: torch.Tensor,
    y: torch.Tensor,
    grad_clip: float | None = None,
) -> float:
    """One optimisation step on a batch; returns the loss as a float."""
    raise NotImplementedError(
        'TODO(train_step): zero the gradients, compute loss_fn(model, x, y), backpropagate, clip the '
        'gradient norm when grad_clip is set (nn.utils.clip_grad_norm_), step the optimizer, return '
        'loss.item().'
    )


def build(run: RunConfig) -> tuple[nn.Module, LossFn]:
    """The model a run trains and its per-batch loss."""
    d = run.num_hiddens
    if run.objective in ("denoise", "purenoise"):
        model: nn.Module = UnconditionalUNet(1, d)
        if run.objective == "denoise":
            return model, lambda m, x, y: denoiser_loss(m, x, run.sigma)
        return model, lambda m, x, y: pure_noise_loss(m, x)
    if run.model == "class":
        unet: nn.Module = ClassConditionalUNet(1, 10, d)
    else:
        unet = TimeConditionalUNet(1, 10, d, modulation=run.modulation)
    wrapper = DDPM if run.objective == "ddpm" else FlowMatching
    model = wrapper(unet, num_ts=run.num_ts)
    if run.model == "class":
        return model, lambda m, x, y: m(x, one_hot(y))
    return model, lambda m, x, y: m(x)


def _rng_state(shuffle: torch.Generator) -> dict:
    state = {"torch": torch.get_rng_state(), "shuffle": shuffle.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict, shuffle: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    shuffle.set_state(state["shuffle"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _save_atomic(obj: dict, path: Path) -> None:
    """Write then rename, so an interruption never leaves a half-written checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train_run(
    run: RunConfig,
    model: nn.Module,
    loss_fn: LossFn,
    images: torch.Tensor,
    labels: torch.Tensor,
    ckpt_dir: str | Path,
    seed: int = 0,
    progress: bool = True,
    stop_after: int | None = None,
) -> list[float]:
    """Train `model` for run.epochs epochs, checkpointing each one; returns the per-iteration
    losses of the whole run. If `ckpt_dir/last.pt` exists for the same config, training
    resumes after its epoch. `stop_after` ends early after that epoch (to test resuming)."""
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    last = ckpt_dir / "last.pt"
    optimizer = torch.optim.Adam(model.parameters(), lr=run.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, run.gamma) if run.lr_decay else None
    shuffle = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    losses: list[float] = []
    start = 1

    if last.exists():
        state = torch.load(last, map_location=images.device, weights_only=False)
        if state["config"] == asdict(run):
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(state["scheduler"])
            _set_rng_state(state["rng"], shuffle)
            losses, start = state["losses"], state["epoch"] + 1
            if progress and start <= run.epochs:
                print(f"[{run.name}] resuming after epoch {state['epoch']} from {last}")
        elif progress:
            print(f"[{run.name}] {last} was written with other settings: starting over")

    for epoch in range(start, run.epochs + 1):
        model.train()
        steps = batches(images, labels, run.batch_size, shuffle, run.steps_per_epoch)
        total = min(len(images) // run.batch_size, run.steps_per_epoch or len(images))
        bar = tqdm(steps, total=total, desc=f"{run.name} epoch {epoch}/{run.epochs}", disable=not progress, leave=False)
        for x, y in bar:
            losses.append(train_step(model, optimizer, loss_fn, x, y, run.grad_clip))
            bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
        if scheduler is not None:
            scheduler.step()
        if epoch in run.snapshots:
            _save_atomic(model.state_dict(), ckpt_dir / f"epoch{epoch:03d}.pt")
        _save_atomic(
            {
                "config": asdict(run),
                "epoch": epoch,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "rng": _rng_state(shuffle),
                "losses": losses,
            },
            last,
        )
        if stop_after is not None and epoch >= stop_after:
            break
    return losses


def load_snapshot(model: nn.Module, ckpt_dir: str | Path, epoch: int) -> nn.Module:
    """Load the weights kept after `epoch` into `model` (in place) and return it."""
    path = Path(ckpt_dir) / f"epoch{epoch:03d}.pt"
    device = next(model.parameters()).device
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return model
