"""Real MNIST for the grader's training smoke tests and benchmarks (read here, in the grader;
the worker only receives the batches it trains on).

The data root is $DATA_ROOT (default ./data) with MNIST/raw/ in torchvision's layout. The
grader never downloads: a missing data set is the course staff's setup problem, reported as
such, and never costs a student points silently.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from .paths import data_root


class DataMissing(RuntimeError):
    """MNIST is not where DATA_ROOT says."""


@lru_cache(maxsize=2)
def mnist_uint8(train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(images uint8 (N, 1, 28, 28), labels int64 (N,)) of one split."""
    from torchvision.datasets import MNIST  # only the data-reading tests need torchvision

    root = data_root()
    try:
        ds = MNIST(str(root), train=train, download=False)
    except RuntimeError:
        raise DataMissing(f"MNIST not found under {root.resolve()}/MNIST/raw: set DATA_ROOT to the folder "
                          "that holds MNIST/raw (torchvision's layout)") from None
    return ds.data.unsqueeze(1).contiguous(), ds.targets.to(torch.int64)


def training_sample(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n training images (uint8) and labels, drawn without replacement with a fixed seed."""
    images, labels = mnist_uint8(train=True)
    idx = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n]
    return images[idx], labels[idx]
