"""Self-check of part 8. Flow matching.

Written from the course's test declarations, beside the grader's own tests; edits here are
overwritten by the next release.
"""

import pytest
import torch


@pytest.mark.points(2)
@pytest.mark.covers("test_fm_interpolate")
def test_fm_interpolate_endpoints_and_per_sample_t(hw, kit):
    x0, x1 = torch.randn(4, 1, 28, 28), kit.images()
    assert torch.allclose(hw.flow.fm_interpolate(x0, x1, 0.0), x0), "t = 0 must give x0 (the noise)"
    assert torch.allclose(hw.flow.fm_interpolate(x0, x1, 1.0), x1), "t = 1 must give x1 (the data)"
    t = torch.tensor([0.0, 1.0, 0.0, 1.0])
    out = hw.flow.fm_interpolate(x0, x1, t)
    assert out.shape == (4, 1, 28, 28), f"a per-sample t of shape (N,) must give (N, 1, 28, 28), got {tuple(out.shape)}"
    assert torch.allclose(out[1], x1[1]) and torch.allclose(out[2], x0[2]), "each sample must use its own t"


@pytest.mark.points(2)
@pytest.mark.covers("test_fm_forward_loss")
def test_fm_forward_returns_a_finite_scalar(hw, kit, time_net, class_net):
    x1, noise, t = kit.images(), torch.randn(4, 1, 28, 28), torch.rand(4)
    a = hw.flow.fm_forward(time_net, x1, 50, noise=noise, t=t)
    assert kit.is_scalar(a), f"time-only: expected a finite 0-dimensional tensor, got {a!r}"
    assert torch.equal(hw.flow.fm_forward(time_net, x1, 50, noise=noise, t=t), a), "fixed noise and t: same loss"
    loss = hw.flow.fm_forward(class_net, x1, 50, c=kit.one_hot([0, 1, 2, 3]))
    assert kit.is_scalar(loss), f"with classes: expected a finite 0-dimensional tensor, got {loss!r}"


@pytest.mark.points(1)
@pytest.mark.covers("test_fm_sample_timesteps")
def test_fm_sample_time_only(hw, time_net):
    out = hw.flow.fm_sample(time_net, (28, 28), 10, seed=0, num_samples=2)
    assert out.shape == (2, 1, 28, 28), f"expected (num_samples, 1, 28, 28) = (2, 1, 28, 28), got {tuple(out.shape)}"


@pytest.mark.points(2)
@pytest.mark.covers("test_fm_sample_seed")
def test_fm_sample_shape_and_seed(hw, kit, class_net):
    run = lambda seed: hw.flow.fm_sample(class_net, (28, 28), 10, seed=seed, c=kit.one_hot([1, 2, 3]))
    a = run(0)
    assert isinstance(a, torch.Tensor), f"fm_sample returns a tensor, got {type(a).__name__}"
    assert a.shape == (3, 1, 28, 28), f"expected (len(c), 1, 28, 28) = (3, 1, 28, 28), got {tuple(a.shape)}"
    assert torch.isfinite(a).all()
    assert torch.equal(run(0), a), "the same seed must give the same images"
    assert not torch.equal(run(1), a), "another seed must give other images"
