"""4. The forward process q_sample(x0, t, sched, noise) = sqrt(ab_t) x0 + sqrt(1 - ab_t) noise."""

from __future__ import annotations

import torch

from grader.checks import inputs
from grader.checks import misconceptions as wrong
from grader.checks import reference as ref
from grader.checks.expect import Mismatch, expect_close, expect_tensor, expect_true
from grader.checks.stats import expect_standard_normal
from grader.plugin import graded, self_check
from grader.sandbox.student import Student

SCHED = ref.schedule(300)


def _check(student: Student, t: list[int], n_seed: int = 0) -> None:
    x0, noise, steps = inputs.images(len(t), seed=n_seed), inputs.noise(len(t), seed=n_seed + 1), inputs.steps(t)
    got = student.fn("diffusion.q_sample")(x0, steps, SCHED, noise=noise).value
    expect_close(got, ref.q_sample(x0, steps, SCHED, noise), f"q_sample(x0, t={t}, sched, noise)",
                 wrong.q_sample(x0, steps, SCHED, noise))


@graded("q_sample with fixed noise matches the closed form", points=4)
def test_q_sample_closed_form(student: Student) -> None:
    _check(student, [150, 150, 150])
    _check(student, [0, 0])
    _check(student, [299, 299, 299, 299])


@self_check("test_q_sample_closed_form", points=2)
def public_q_sample_shape_dtype_and_fixed_noise(hw, kit):
    x0, noise, t = kit.images(), torch.randn(4, 1, 28, 28), torch.tensor([0, 5, 10, 19])
    a = hw.diffusion.q_sample(x0, t, kit.schedule(20), noise)
    assert a.shape == (4, 1, 28, 28) and a.dtype == torch.float32, f"got {tuple(a.shape)} {a.dtype}"
    assert torch.isfinite(a).all()
    assert torch.equal(hw.diffusion.q_sample(x0, t, kit.schedule(20), noise), a), (
        "the same noise must give the same x_t"
    )


@graded("q_sample uses each sample's own t", points=2)
def test_q_sample_per_sample_t(student: Student) -> None:
    _check(student, [299, 0, 17, 150, 42, 1], n_seed=5)


@self_check("test_q_sample_per_sample_t", points=1)
def public_q_sample_takes_one_int_t_for_the_batch(hw, kit):
    x0, noise = kit.images(), torch.randn(4, 1, 28, 28)
    a = hw.diffusion.q_sample(x0, 7, kit.schedule(20), noise)
    b = hw.diffusion.q_sample(x0, torch.full((4,), 7), kit.schedule(20), noise)
    assert torch.allclose(a, b), "an int t must act like the same t for every sample"


@graded("q_sample draws standard normal noise by default", points=2)
def test_q_sample_default_noise(student: Student) -> None:
    x0, t = inputs.images(64), inputs.steps([100] * 64)
    got = expect_tensor(student.fn("diffusion.q_sample")(x0, t, SCHED).value, "q_sample(x0, t, sched) without noise",
                        x0.shape)
    ab = SCHED["alpha_bars"][100].double()
    expect_standard_normal((got.double() - ab.sqrt() * x0) / (1 - ab).sqrt(),
                           "the noise q_sample draws, (x_t - sqrt(ab_t) x0) / sqrt(1 - ab_t)")


@self_check("test_q_sample_default_noise", points=1)
def public_q_sample_without_noise_argument(hw, kit):
    x0, t = kit.images(), torch.tensor([3, 3, 3, 3])
    a, b = hw.diffusion.q_sample(x0, t, kit.schedule(20)), hw.diffusion.q_sample(x0, t, kit.schedule(20))
    assert a.shape == x0.shape
    assert not torch.equal(a, b), "without a noise argument, q_sample must draw fresh noise"


@graded("q_sample keeps the input's dtype and device", points=1, visibility="after_published")
def test_q_sample_dtype_device(student: Student) -> None:
    x0, noise, t = inputs.images(3).double(), inputs.noise(3).double(), inputs.steps([5, 100, 250])
    out = student.fn("diffusion.q_sample")(x0, t, SCHED, noise=noise)
    got = expect_tensor(out.value, "q_sample on float64 inputs", x0.shape)
    expect_true(got.dtype == torch.float64, "q_sample on float64 inputs", f"  returned {got.dtype}, not torch.float64")
    device = student.device
    expect_true(out.device is not None and out.device.split(":")[0] == device.split(":")[0],
                f"q_sample on inputs on {device}", f"  the result is on {out.device}")
    expect_close(got, ref.q_sample(x0, t, SCHED, noise), "q_sample on float64 inputs", rtol=1e-6, atol=1e-7)


@graded("q_sample has the distribution of t one-step noisings", points=3, visibility="hidden")
def test_q_sample_matches_chain(student: Student) -> None:
    """Samples of x_t from q_sample vs from t + 1 one-step noisings x_s = sqrt(1 - b_s) x_{s-1} + sqrt(b_s) e."""
    m, times = 256, (10, 150, 299)
    image = inputs.images(1, seed=9)
    x0 = image.expand(m, -1, -1, -1).contiguous()
    gen = torch.Generator().manual_seed(11)
    betas = SCHED["betas"]
    chains, x = {}, x0.clone()
    for s in range(max(times) + 1):  # one chain, read at each t
        x = (1 - betas[s]).sqrt() * x + betas[s].sqrt() * torch.randn(x.shape, generator=gen)
        if s in times:
            chains[s] = x.double()
    flat = image.double().reshape(-1)
    for t in times:
        got = student.fn("diffusion.q_sample", seed=t)(x0, inputs.steps([t] * m), SCHED).value
        got = expect_tensor(got, f"q_sample(x0, t={t}, sched) without noise", x0.shape).double()
        slope_q = float(got.mean(0).reshape(-1) @ flat / (flat @ flat))
        slope_c = float(chains[t].mean(0).reshape(-1) @ flat / (flat @ flat))
        var_q, var_c = got.var(0).mean().item(), chains[t].var(0).mean().item()
        detail = (f"  at t = {t}: the mean of x_t is {slope_q:.4f} x0 from q_sample but {slope_c:.4f} x0 after the "
                  f"one-step chain;\n  the variance is {var_q:.4f} from q_sample but {var_c:.4f} from the chain")
        # Thresholds: 5 standard errors (m = 256 samples of 784 pixels).
        if abs(slope_q - slope_c) > 0.03 or abs(var_q / var_c - 1) > 0.05:
            raise Mismatch(f"the distribution of q_sample(x0, t={t}, sched)", detail)
