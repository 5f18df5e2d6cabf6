"""Self-check of part 7. Sampler ddpm_sample.

Written from the course's test declarations, beside the grader's own tests; edits here are
overwritten by the next release.
"""

import pytest
import torch


@pytest.mark.points(2)
@pytest.mark.covers("test_ddpm_sample_shape")
def test_ddpm_sample_one_image_per_class(hw, kit, class_net):
    out = hw.diffusion.ddpm_sample(class_net, kit.schedule(10), (28, 28), 10, seed=0, c=kit.one_hot([0, 1, 2]))
    assert isinstance(out, torch.Tensor), f"ddpm_sample returns a tensor, got {type(out).__name__}"
    assert out.shape == (3, 1, 28, 28), f"expected (len(c), 1, 28, 28) = (3, 1, 28, 28), got {tuple(out.shape)}"
    assert torch.isfinite(out).all()


@pytest.mark.points(2)
@pytest.mark.covers("test_ddpm_sample_seed")
def test_ddpm_sample_is_reproducible_with_its_seed(hw, kit, time_net):
    run = lambda seed: hw.diffusion.ddpm_sample(time_net, kit.schedule(10), (28, 28), 10, seed=seed, num_samples=2)
    a = run(0)
    assert a.shape == (2, 1, 28, 28), f"expected (num_samples, 1, 28, 28) = (2, 1, 28, 28), got {tuple(a.shape)}"
    assert torch.equal(run(0), a), "the same seed must give the same images"
    assert not torch.equal(run(1), a), "another seed must give other images"


@pytest.mark.points(1)
@pytest.mark.covers()
def test_ddpm_module_gives_a_loss_and_samples(hw, kit, class_net):
    model = hw.diffusion.DDPM(class_net, num_ts=10)
    loss = model(kit.images(), kit.one_hot([0, 1, 2, 3]))
    assert kit.is_scalar(loss), "DDPM.forward must return a finite scalar loss"
    assert model.sample((28, 28), seed=0, c=kit.one_hot([4, 5])).shape == (2, 1, 28, 28)
