"""Self-check of part 6. Reverse step p_sample.

Written from the course's test declarations, beside the grader's own tests; edits here are
overwritten by the next release.
"""

import pytest
import torch


@pytest.mark.points(1)
@pytest.mark.covers("test_p_sample_mean")
def test_p_sample_takes_one_int_t(hw, kit, time_net):
    with torch.no_grad():
        out = hw.diffusion.p_sample(time_net, kit.images(), 5, kit.schedule(20), torch.randn(4, 1, 28, 28))
    assert out.shape == (4, 1, 28, 28)


@pytest.mark.points(2)
@pytest.mark.covers("test_p_sample_mean", "test_p_sample_sigma")
def test_p_sample_shape_and_fixed_z(hw, kit, time_net):
    x, z, t = torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28), torch.tensor([19, 10, 1, 0])
    with torch.no_grad():
        a = hw.diffusion.p_sample(time_net, x, t, kit.schedule(20), z)
        b = hw.diffusion.p_sample(time_net, x, t, kit.schedule(20), z)
    assert a.shape == (4, 1, 28, 28) and torch.isfinite(a).all(), f"got shape {tuple(a.shape)}"
    assert torch.equal(a, b), "the same z must give the same x_{t-1}"


@pytest.mark.points(2)
@pytest.mark.covers("test_p_sample_cfg")
def test_p_sample_with_classes_and_guidance(hw, kit, class_net):
    x, z, t, c = kit.images(), torch.randn(4, 1, 28, 28), torch.tensor([12, 12, 3, 0]), kit.one_hot([2, 3, 4, 5])
    with torch.no_grad():
        out = hw.diffusion.p_sample(class_net, x, t, kit.schedule(20), z, c=c, guidance_scale=5.0)
    assert out.shape == (4, 1, 28, 28) and torch.isfinite(out).all(), f"got shape {tuple(out.shape)}"
