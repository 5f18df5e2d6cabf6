"""6. One reverse step: x_{t-1} = (x_t - beta_t / sqrt(1 - ab_t) eps) / sqrt(alpha_t) + sqrt(beta_t) z,
with no noise at t = 0, and classifier-free guidance eps = eps_u + g (eps_c - eps_u)."""

from __future__ import annotations

import torch

from grader.checks import inputs, plausible
from grader.checks import misconceptions as wrong
from grader.checks import reference as ref
from grader.checks.calls import expect_time, first_call
from grader.checks.expect import T0_TOL, expect_close, expect_one_of
from grader.plugin import graded, self_check
from grader.sandbox.student import Student, mock

T = 300
SCHED = ref.schedule(T)


def _step(student: Student, t: list[int], z: torch.Tensor | None, seed: int = 20):
    x_t, steps = inputs.noise(len(t), seed=seed), inputs.steps(t)
    z = torch.zeros_like(x_t) if z is None else z
    out = student.fn("diffusion.p_sample")(mock(), x_t, steps, SCHED, z=z)
    eps = ref.mock_eps(x_t, steps / T)
    expected = ref.p_sample(x_t, steps, SCHED, eps, z)
    mistakes = wrong.p_sample(x_t, steps, SCHED, z, eps, eps_raw_t=ref.mock_eps(x_t, steps.double()))
    return out, expected, mistakes


@graded("p_sample: the posterior mean (z = 0)", points=3)
def test_p_sample_mean(student: Student) -> None:
    out, expected, mistakes = _step(student, [1, 50, 150, 299], None)
    expect_close(out.value, expected, "p_sample(mock_unet, x_t, t=[1, 50, 150, 299], sched, z=0): the posterior mean",
                 mistakes)


@self_check("test_p_sample_mean", points=1)
def public_p_sample_takes_one_int_t(hw, kit, time_net):
    with torch.no_grad():
        out = hw.diffusion.p_sample(time_net, kit.images(), 5, kit.schedule(20), torch.randn(4, 1, 28, 28))
    assert out.shape == (4, 1, 28, 28)


@graded("p_sample: mean + sqrt(beta_t) z with a fixed z", points=2)
def test_p_sample_sigma(student: Student) -> None:
    out, expected, mistakes = _step(student, [1, 50, 150, 299], inputs.noise(4, seed=21))
    expect_close(out.value, expected, "p_sample(mock_unet, x_t, t=[1, 50, 150, 299], sched, z): mean + sqrt(beta_t) z",
                 mistakes)


@self_check("test_p_sample_mean", "test_p_sample_sigma", points=2)
def public_p_sample_shape_and_fixed_z(hw, kit, time_net):
    x, z, t = torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28), torch.tensor([19, 10, 1, 0])
    with torch.no_grad():
        a = hw.diffusion.p_sample(time_net, x, t, kit.schedule(20), z)
        b = hw.diffusion.p_sample(time_net, x, t, kit.schedule(20), z)
    assert a.shape == (4, 1, 28, 28) and torch.isfinite(a).all(), f"got shape {tuple(a.shape)}"
    assert torch.equal(a, b), "the same z must give the same x_{t-1}"


@graded("p_sample adds no noise at t = 0", points=2)
def test_p_sample_no_noise_at_t0(student: Student) -> None:
    out, expected, mistakes = _step(student, [0, 0, 0], inputs.noise(3, seed=22))
    expect_close(out.value, expected, "p_sample(mock_unet, x_t, t=0, sched, z): the mean, without noise", mistakes,
                 **T0_TOL)


@graded("p_sample with a batch of different t, some 0", points=2, visibility="after_published")
def test_p_sample_mixed_t(student: Student) -> None:
    out, expected, mistakes = _step(student, [0, 5, 0, 299], inputs.noise(4, seed=23))
    expect_close(out.value, expected, "p_sample(mock_unet, x_t, t=[0, 5, 0, 299], sched, z): noise only where t > 0",
                 mistakes, **T0_TOL)


@graded("p_sample with classifier-free guidance, scale 5", points=3)
def test_p_sample_cfg(student: Student) -> None:
    x_t, t, c, scale = inputs.noise(4, seed=24), inputs.steps([10, 100, 200, 299]), inputs.one_hot([3, 7, 0, 9]), 5.0
    z = torch.zeros_like(x_t)
    out = student.fn("diffusion.p_sample")(mock(), x_t, t, SCHED, z=z, c=c, guidance_scale=scale)
    eps_c, eps_u = ref.mock_eps(x_t, t / T, c), ref.mock_eps(x_t, t / T, torch.zeros_like(c))
    expected = ref.posterior_mean(x_t, t, SCHED, ref.cfg(eps_c, eps_u, scale))
    guided = wrong.guidance(eps_c, eps_u, scale)
    mistakes = {label: ref.posterior_mean(x_t, t, SCHED, eps) for label, eps in guided.items()}
    expect_close(out.value, expected, "p_sample(mock_unet, x_t, t, sched, z=0, c, guidance_scale=5)", mistakes)


@self_check("test_p_sample_cfg", points=2)
def public_p_sample_with_classes_and_guidance(hw, kit, class_net):
    x, z, t, c = kit.images(), torch.randn(4, 1, 28, 28), torch.tensor([12, 12, 3, 0]), kit.one_hot([2, 3, 4, 5])
    with torch.no_grad():
        out = hw.diffusion.p_sample(class_net, x, t, kit.schedule(20), z, c=c, guidance_scale=5.0)
    assert out.shape == (4, 1, 28, 28) and torch.isfinite(out).all(), f"got shape {tuple(out.shape)}"


@graded("p_sample gives the UNet t / T", points=2, visibility="after_published")
def test_p_sample_unet_time(student: Student) -> None:
    t, x = inputs.steps([0, 7, 150, 299]), inputs.noise(4, seed=25)
    out = student.fn("diffusion.p_sample")(mock(), x, t, SCHED, z=torch.zeros(4, 1, 28, 28))
    rec = first_call(out.records, "the UNet's inputs in p_sample")
    expect_time(rec, t, T, "the time the UNet received in p_sample (should be t / T)")
    plausible.expect_roughly(out.value, ref.posterior_mean(x, t, SCHED, ref.mock_eps(x, t / T)),
                             "p_sample(unet, x_t, t, sched, z=0) vs the posterior mean", 0.25)


# -- course dialects ----------------------------------------------------------------------------------


@graded("p_sample: mean + sigma_t z (sigma_t^2 = beta_t or the posterior variance), no noise at t = 0", points=4,
        dialects=("adl-ex02",))
def test_p_sample_either_variance(student: Student) -> None:
    for t, seed in (([1, 50, 150, 299], 21), ([0, 5, 0, 299], 23)):
        x_t, steps, z = inputs.noise(len(t), seed=seed - 1), inputs.steps(t), inputs.noise(len(t), seed=seed)
        out = student.fn("diffusion.p_sample")(mock(), x_t, steps, SCHED, z=z)
        eps = ref.mock_eps(x_t, steps / T)
        mean = ref.posterior_mean(x_t, steps, SCHED, eps)
        beta = ref.at(SCHED["betas"], steps, x_t)
        ab = ref.at(SCHED["alpha_bars"], steps, x_t)
        ab_prev = ref.at(torch.cat([torch.ones(1), SCHED["alpha_bars"][:-1]]), steps, x_t)
        noisy = (steps > 0).double().reshape(beta.shape) * z.double()
        accepted = {"sigma_t^2 = beta_t": mean + beta.sqrt() * noisy,
                    "sigma_t^2 = the posterior variance": mean + ((1 - ab_prev) / (1 - ab) * beta).sqrt() * noisy}
        mistakes = {k: v for k, v in wrong.p_sample(x_t, steps, SCHED, z, eps).items() if "beta_tilde" not in k}
        expect_one_of(out.value, accepted, f"p_sample(mock_unet, x_t, t={t}, sched) with the step's noise z",
                      mistakes, **T0_TOL)
