"""Part 1.2: the denoiser's losses and one optimisation step (train.py)."""

import pytest
import torch
from conftest import images, is_scalar
from torch import nn


def small_net() -> nn.Module:
    return nn.Conv2d(1, 1, 3, padding=1)  # stands in for your UnconditionalUNet


@pytest.mark.points(1)
@pytest.mark.covers("test_denoiser_loss")
def test_denoiser_loss_is_a_finite_scalar(hw):
    loss = hw.train.denoiser_loss(small_net(), images(), 0.5)
    assert is_scalar(loss), f"expected a finite 0-dimensional tensor, got {loss!r}"


@pytest.mark.points(1)
@pytest.mark.covers("test_pure_noise_loss")
def test_pure_noise_loss_is_a_finite_scalar(hw):
    loss = hw.train.pure_noise_loss(small_net(), images())
    assert is_scalar(loss), f"expected a finite 0-dimensional tensor, got {loss!r}"


@pytest.mark.points(1)
@pytest.mark.covers()
def test_one_optimisation_step_returns_a_float(hw):
    net = small_net()
    before = [p.detach().clone() for p in net.parameters()]
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = lambda m, x, y: ((m(x) - x) ** 2).mean()
    loss = hw.train.train_step(net, optimizer, loss_fn, images(), torch.zeros(4, dtype=torch.long))
    assert isinstance(loss, float), f"train_step must return the loss as a Python float, got {type(loss).__name__}"
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True)), (
        "train_step must update the parameters (optimizer.step())"
    )
