"""Part 2: the sampler ddpm_sample and the DDPM wrapper (a stand-in network replaces the UNet)."""

import pytest
import torch
from conftest import images, is_scalar, one_hot, schedule


@pytest.mark.points(2)
@pytest.mark.covers("test_ddpm_sample_shape")
def test_ddpm_sample_one_image_per_class(hw, class_net):
    out = hw.diffusion.ddpm_sample(class_net, schedule(10), (28, 28), 10, seed=0, c=one_hot([0, 1, 2]))
    assert isinstance(out, torch.Tensor), f"ddpm_sample returns a tensor, got {type(out).__name__}"
    assert out.shape == (3, 1, 28, 28), f"expected (len(c), 1, 28, 28) = (3, 1, 28, 28), got {tuple(out.shape)}"
    assert torch.isfinite(out).all()


@pytest.mark.points(2)
@pytest.mark.covers("test_ddpm_sample_seed")
def test_ddpm_sample_is_reproducible_with_its_seed(hw, time_net):
    run = lambda seed: hw.diffusion.ddpm_sample(time_net, schedule(10), (28, 28), 10, seed=seed, num_samples=2)
    a = run(0)
    assert a.shape == (2, 1, 28, 28), f"expected (num_samples, 1, 28, 28) = (2, 1, 28, 28), got {tuple(a.shape)}"
    assert torch.equal(run(0), a), "the same seed must give the same images"
    assert not torch.equal(run(1), a), "another seed must give other images"


@pytest.mark.points(1)
@pytest.mark.covers()
def test_ddpm_module_gives_a_loss_and_samples(hw, class_net):
    model = hw.diffusion.DDPM(class_net, num_ts=10)
    assert is_scalar(model(images(), one_hot([0, 1, 2, 3]))), "DDPM.forward must return a finite scalar loss"
    assert model.sample((28, 28), seed=0, c=one_hot([4, 5])).shape == (2, 1, 28, 28)
