"""Self-check of part 5. Training loss: p_losses and ddpm_forward.

Written from the course's test declarations, beside the grader's own tests; edits here are
overwritten by the next release.
"""

import pytest
import torch


@pytest.mark.points(2)
@pytest.mark.covers("test_p_losses_l2", "test_p_losses_l1")
def test_p_losses_l2_and_l1_are_finite_scalars(hw, kit, time_net):
    x0, t, noise = kit.images(), torch.tensor([0, 4, 9, 19]), torch.randn(4, 1, 28, 28)
    for loss_type in ("l2", "l1"):
        loss = hw.diffusion.p_losses(time_net, x0, t, kit.schedule(20), noise, loss_type=loss_type)
        assert kit.is_scalar(loss), f"loss_type={loss_type!r}: expected a finite 0-dimensional tensor, got {loss!r}"
    loss.backward()
    assert time_net.conv.weight.grad is not None, "the loss must be differentiable with respect to the network"


@pytest.mark.points(2)
@pytest.mark.covers("test_ddpm_forward_t_range")
def test_ddpm_forward_returns_a_finite_scalar(hw, kit, time_net, class_net):
    loss = hw.diffusion.ddpm_forward(time_net, kit.schedule(20), kit.images(), 20)
    assert kit.is_scalar(loss), f"time-only: expected a finite 0-dimensional tensor, got {loss!r}"
    loss = hw.diffusion.ddpm_forward(class_net, kit.schedule(20), kit.images(), 20, c=kit.one_hot([5, 6, 7, 8]))
    assert kit.is_scalar(loss), f"with classes: expected a finite 0-dimensional tensor, got {loss!r}"


@pytest.mark.points(1)
@pytest.mark.covers()
def test_p_losses_with_classes_and_mask(hw, kit, class_net):
    x0, t, c = kit.images(), torch.tensor([0, 4, 9, 19]), kit.one_hot([0, 1, 2, 3])
    loss = hw.diffusion.p_losses(class_net, x0, t, kit.schedule(20), c=c, mask=torch.tensor([1.0, 0.0, 1.0, 1.0]))
    assert kit.is_scalar(loss), f"expected a finite 0-dimensional tensor, got {loss!r}"
