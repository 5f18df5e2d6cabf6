"""MNIST as in-memory tensors.

The whole split is one float tensor (N, 1, 28, 28) in [0, 1] (what ToTensor gives) on the
training device; shuffled batches are slices of it. That is much faster than a DataLoader
with a per-item transform, and the shuffle order comes from a generator we can checkpoint.

The data root is $DATA_ROOT (default ./data) and holds MNIST/raw/ in torchvision's layout.
Missing files are downloaded with torchvision when the machine is online.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import torch

NUM_CLASSES = 10


class MissingDataError(RuntimeError):
    """MNIST is neither on disk nor downloadable."""


def data_root() -> Path:
    return Path(os.environ.get("DATA_ROOT", "./data"))


def load_mnist(
    train: bool = True, device: str | torch.device = "cpu", root: str | Path | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64) of one split."""
    from torchvision.datasets import MNIST  # imported here: only data loading needs it

    root = Path(root) if root is not None else data_root()
    try:
        ds = MNIST(str(root), train=train, download=False)
    except RuntimeError:
        try:
            ds = MNIST(str(root), train=train, download=True)
        except Exception as exc:  # offline, or a read-only folder
            raise MissingDataError(
                f"MNIST not found under {root.resolve()}/MNIST/raw and could not be downloaded "
                f"({type(exc).__name__}). Set DATA_ROOT to the folder that contains MNIST/raw."
            ) from None
    images = ds.data.unsqueeze(1).to(torch.float32).div_(255.0)
    return images.to(device), ds.targets.to(torch.int64).to(device)


def one_hot(labels: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Class labels (N,) as float one-hot rows (N, num_classes)."""
    return torch.nn.functional.one_hot(labels, num_classes).to(torch.float32)


def batches(
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    max_steps: int | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of shuffled (images, labels) batches; the last partial batch is dropped.
    `max_steps` cuts the epoch short (the quick profiles train on part of an epoch)."""
    order = torch.randperm(len(images), generator=generator).to(images.device)
    steps = len(images) // batch_size
    if max_steps is not None:
        steps = min(steps, max_steps)
    for i in range(steps):
        idx = order[i * batch_size : (i + 1) * batch_size]
        yield images[idx], labels[idx]
