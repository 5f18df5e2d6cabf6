"""Part 2: the forward process q_sample(x0, t, sched, noise)."""

import pytest
import torch
from conftest import images, schedule


@pytest.mark.points(2)
@pytest.mark.covers("test_q_sample_closed_form")
def test_q_sample_shape_dtype_and_fixed_noise(hw):
    x0, noise, t = images(), torch.randn(4, 1, 28, 28), torch.tensor([0, 5, 10, 19])
    a = hw.diffusion.q_sample(x0, t, schedule(20), noise)
    assert a.shape == (4, 1, 28, 28) and a.dtype == torch.float32, f"got {tuple(a.shape)} {a.dtype}"
    assert torch.isfinite(a).all()
    assert torch.equal(hw.diffusion.q_sample(x0, t, schedule(20), noise), a), "the same noise must give the same x_t"


@pytest.mark.points(1)
@pytest.mark.covers("test_q_sample_per_sample_t")
def test_q_sample_takes_one_int_t_for_the_batch(hw):
    x0, noise = images(), torch.randn(4, 1, 28, 28)
    a = hw.diffusion.q_sample(x0, 7, schedule(20), noise)
    b = hw.diffusion.q_sample(x0, torch.full((4,), 7), schedule(20), noise)
    assert torch.allclose(a, b), "an int t must act like the same t for every sample"


@pytest.mark.points(1)
@pytest.mark.covers("test_q_sample_default_noise")
def test_q_sample_without_noise_argument(hw):
    x0, t = images(), torch.tensor([3, 3, 3, 3])
    a, b = hw.diffusion.q_sample(x0, t, schedule(20)), hw.diffusion.q_sample(x0, t, schedule(20))
    assert a.shape == x0.shape
    assert not torch.equal(a, b), "without a noise argument, q_sample must draw fresh noise"
