"""2. Part 1 noising: add_noise(x, sigma, noise) = x + sigma * noise."""

from __future__ import annotations

import torch

from grader.checks import inputs
from grader.checks import misconceptions as wrong
from grader.checks.expect import expect_close, expect_tensor
from grader.checks.stats import expect_standard_normal
from grader.plugin import graded, self_check
from grader.sandbox.student import Student


@graded("add_noise(x, sigma, noise) = x + sigma * noise", points=3)
def test_add_noise(student: Student) -> None:
    x, noise = inputs.images(3), inputs.noise(3)
    add_noise = student.fn("diffusion.add_noise")
    for sigma in (0.0, 0.5, 0.8):
        got = add_noise(x, sigma, noise=noise).value
        expect_close(got, x + sigma * noise, f"add_noise(x, sigma={sigma}, noise)", wrong.add_noise(x, sigma, noise))


@self_check("test_add_noise", points=2)
def public_add_noise_uses_the_given_noise(hw, kit):
    x, noise = kit.images(), torch.randn(4, 1, 28, 28)
    z = hw.diffusion.add_noise(x, 0.5, noise)
    assert z.shape == x.shape
    assert torch.allclose(z, x + 0.5 * noise), "with noise given, the result must be x + sigma * noise"
    assert torch.equal(hw.diffusion.add_noise(x, 0.0, noise), x), "sigma = 0 must leave x unchanged"


@graded("add_noise draws standard normal noise by default", points=1, visibility="after_published")
def test_add_noise_default(student: Student) -> None:
    x, sigma = inputs.images(64), 0.5
    got = expect_tensor(student.fn("diffusion.add_noise")(x, sigma).value, "add_noise(x, 0.5) without noise", x.shape)
    expect_standard_normal((got - x) / sigma, "the noise add_noise draws, (z - x) / sigma")


@self_check(points=1)
def public_add_noise_without_noise_argument(hw, kit):
    x = kit.images()
    a, b = hw.diffusion.add_noise(x, 0.5), hw.diffusion.add_noise(x, 0.5)
    assert a.shape == x.shape
    assert not torch.equal(a, x), "without a noise argument, add_noise must draw noise itself"
    assert not torch.equal(a, b), "two calls without a noise argument must draw different noise"
