"""Self-check of part 4. Forward process q_sample.

Written from the course's test declarations, beside the grader's own tests; edits here are
overwritten by the next release.
"""

import pytest
import torch


@pytest.mark.points(2)
@pytest.mark.covers("test_q_sample_closed_form")
def test_q_sample_shape_dtype_and_fixed_noise(hw, kit):
    x0, noise, t = kit.images(), torch.randn(4, 1, 28, 28), torch.tensor([0, 5, 10, 19])
    a = hw.diffusion.q_sample(x0, t, kit.schedule(20), noise)
    assert a.shape == (4, 1, 28, 28) and a.dtype == torch.float32, f"got {tuple(a.shape)} {a.dtype}"
    assert torch.isfinite(a).all()
    assert torch.equal(hw.diffusion.q_sample(x0, t, kit.schedule(20), noise), a), (
        "the same noise must give the same x_t"
    )


@pytest.mark.points(1)
@pytest.mark.covers("test_q_sample_per_sample_t")
def test_q_sample_takes_one_int_t_for_the_batch(hw, kit):
    x0, noise = kit.images(), torch.randn(4, 1, 28, 28)
    a = hw.diffusion.q_sample(x0, 7, kit.schedule(20), noise)
    b = hw.diffusion.q_sample(x0, torch.full((4,), 7), kit.schedule(20), noise)
    assert torch.allclose(a, b), "an int t must act like the same t for every sample"


@pytest.mark.points(1)
@pytest.mark.covers("test_q_sample_default_noise")
def test_q_sample_without_noise_argument(hw, kit):
    x0, t = kit.images(), torch.tensor([3, 3, 3, 3])
    a, b = hw.diffusion.q_sample(x0, t, kit.schedule(20)), hw.diffusion.q_sample(x0, t, kit.schedule(20))
    assert a.shape == x0.shape
    assert not torch.equal(a, b), "without a noise argument, q_sample must draw fresh noise"
