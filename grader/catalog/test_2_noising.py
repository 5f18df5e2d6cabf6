"""2. Part 1 noising: add_noise(x, sigma, noise) = x + sigma * noise."""

from __future__ import annotations

from grader.checks import inputs
from grader.checks import misconceptions as wrong
from grader.checks.expect import expect_close, expect_tensor
from grader.checks.stats import expect_standard_normal
from grader.plugin import graded
from grader.sandbox.student import Student


@graded("add_noise(x, sigma, noise) = x + sigma * noise", points=3)
def test_add_noise(student: Student) -> None:
    x, noise = inputs.images(3), inputs.noise(3)
    add_noise = student.fn("diffusion.add_noise")
    for sigma in (0.0, 0.5, 0.8):
        got = add_noise(x, sigma, noise=noise).value
        expect_close(got, x + sigma * noise, f"add_noise(x, sigma={sigma}, noise)", wrong.add_noise(x, sigma, noise))


@graded("add_noise draws standard normal noise by default", points=1, visibility="after_published")
def test_add_noise_default(student: Student) -> None:
    x, sigma = inputs.images(64), 0.5
    got = expect_tensor(student.fn("diffusion.add_noise")(x, sigma).value, "add_noise(x, 0.5) without noise", x.shape)
    expect_standard_normal((got - x) / sigma, "the noise add_noise draws, (z - x) / sigma")
