"""Self-check of part 2. Part 1 noising.

Written from the course's test declarations, beside the grader's own tests; edits here are
overwritten by the next release.
"""

import pytest
import torch


@pytest.mark.points(2)
@pytest.mark.covers("test_add_noise")
def test_add_noise_uses_the_given_noise(hw, kit):
    x, noise = kit.images(), torch.randn(4, 1, 28, 28)
    z = hw.diffusion.add_noise(x, 0.5, noise)
    assert z.shape == x.shape
    assert torch.allclose(z, x + 0.5 * noise), "with noise given, the result must be x + sigma * noise"
    assert torch.equal(hw.diffusion.add_noise(x, 0.0, noise), x), "sigma = 0 must leave x unchanged"


@pytest.mark.points(1)
@pytest.mark.covers()
def test_add_noise_without_noise_argument(hw, kit):
    x = kit.images()
    a, b = hw.diffusion.add_noise(x, 0.5), hw.diffusion.add_noise(x, 0.5)
    assert a.shape == x.shape
    assert not torch.equal(a, x), "without a noise argument, add_noise must draw noise itself"
    assert not torch.equal(a, b), "two calls without a noise argument must draw different noise"
