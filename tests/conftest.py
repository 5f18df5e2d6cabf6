"""Shared fixtures: real MNIST from $DATA_ROOT and deterministic seeding."""

from __future__ import annotations

import pytest
import torch

from solution.data import MissingDataError, load_mnist


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _split(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """One MNIST split (images, labels); a missing data set fails with the loader's hint."""
    try:
        return load_mnist(train=train)
    except MissingDataError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    return _split(train=False)


@pytest.fixture(scope="session")
def mnist_train() -> tuple[torch.Tensor, torch.Tensor]:
    return _split(train=True)
