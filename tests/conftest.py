"""Shared fixtures: real MNIST from $DATA_ROOT and deterministic seeding."""

from __future__ import annotations

import pytest
import torch

from solution.data import MissingDataError, load_mnist


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    """The MNIST test split (images, labels); a missing data set fails with the loader's hint."""
    try:
        return load_mnist(train=False)
    except MissingDataError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def mnist_train() -> tuple[torch.Tensor, torch.Tensor]:
    try:
        return load_mnist(train=True)
    except MissingDataError as exc:
        pytest.fail(str(exc))
