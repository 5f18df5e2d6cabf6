"""Deterministic inputs for the probes: each comes from its own seeded generator, so a test's
inputs never depend on which tests ran before it."""

from __future__ import annotations

import torch


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n: int, seed: int = 0, channels: int = 1, size: int = 28) -> torch.Tensor:
    """Image-like tensors in [0, 1] (MNIST's range), float32."""
    return torch.rand(n, channels, size, size, generator=_gen(seed))


def noise(n: int, seed: int = 1, channels: int = 1, size: int = 28) -> torch.Tensor:
    return torch.randn(n, channels, size, size, generator=_gen(seed))


def features(n: int, width: int, seed: int = 2) -> torch.Tensor:
    return torch.randn(n, width, generator=_gen(seed))


def one_hot(labels: list[int], num_classes: int = 10) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(labels), num_classes).to(torch.float32)


def steps(values: list[int]) -> torch.Tensor:
    """Timesteps as the contract passes them: a LongTensor (N,)."""
    return torch.tensor(values, dtype=torch.long)


def uniform(n: int, seed: int = 3) -> torch.Tensor:
    return torch.rand(n, generator=_gen(seed))
