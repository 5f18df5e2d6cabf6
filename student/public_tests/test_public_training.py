"""Self-check of part 9. Training.

Written from the course's test declarations, beside the grader's own tests; edits here are
overwritten by the next release.
"""

import pytest
import torch


@pytest.mark.points(1)
@pytest.mark.covers("test_denoiser_loss")
def test_denoiser_loss_is_a_finite_scalar(hw, kit):
    loss = hw.train.denoiser_loss(kit.small_net(), kit.images(), 0.5)
    assert kit.is_scalar(loss), f"expected a finite 0-dimensional tensor, got {loss!r}"


@pytest.mark.points(1)
@pytest.mark.covers("test_pure_noise_loss")
def test_pure_noise_loss_is_a_finite_scalar(hw, kit):
    loss = hw.train.pure_noise_loss(kit.small_net(), kit.images())
    assert kit.is_scalar(loss), f"expected a finite 0-dimensional tensor, got {loss!r}"


@pytest.mark.points(1)
@pytest.mark.covers()
def test_one_optimisation_step_returns_a_float(hw, kit):
    net = kit.small_net()
    before = [p.detach().clone() for p in net.parameters()]
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = lambda m, x, y: ((m(x) - x) ** 2).mean()
    loss = hw.train.train_step(net, optimizer, loss_fn, kit.images(), torch.zeros(4, dtype=torch.long))
    assert isinstance(loss, float), f"train_step must return the loss as a Python float, got {type(loss).__name__}"
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True)), (
        "train_step must update the parameters (optimizer.step())"
    )
