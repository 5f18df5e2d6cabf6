"""8. Flow matching: x_t = (1 - t) x0 + t x1, target u = x1 - x0, and Euler sampling from
t = 0 to 1, checked on a mock velocity field u(x, t) = a x + b t (+ a class term) whose
Euler solution the grader computes exactly."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.checks import inputs, plausible
from grader.checks import misconceptions as wrong
from grader.checks import reference as ref
from grader.checks.calls import dropout_hint, dropout_rate, first_call
from grader.checks.expect import expect_close, expect_scalar, expect_tensor, expect_true
from grader.checks.stats import expect_standard_normal
from grader.plugin import graded, self_check
from grader.sandbox.student import Outcome, Student, mock

N_STEPS = 20


@graded("fm_interpolate(x0, x1, t) = (1 - t) x0 + t x1", points=2)
def test_fm_interpolate(student: Student) -> None:
    x0, x1 = inputs.noise(3, seed=30), inputs.images(3, seed=31)
    interpolate = student.fn("flow.fm_interpolate")
    for t in (0.0, 0.3, 1.0):
        expect_close(interpolate(x0, x1, t).value, ref.fm_interpolate(x0, x1, t), f"fm_interpolate(x0, x1, t={t})",
                     wrong.fm_interpolate(x0, x1, t))
    t = torch.tensor([0.1, 0.5, 0.9]).reshape(3, 1, 1, 1)
    expect_close(interpolate(x0, x1, t).value, ref.fm_interpolate(x0, x1, t),
                 "fm_interpolate(x0, x1, t) with t of shape (N, 1, 1, 1)", wrong.fm_interpolate(x0, x1, t))


@self_check("test_fm_interpolate", points=2)
def public_fm_interpolate_endpoints_and_per_sample_t(hw, kit):
    x0, x1 = torch.randn(4, 1, 28, 28), kit.images()
    assert torch.allclose(hw.flow.fm_interpolate(x0, x1, 0.0), x0), "t = 0 must give x0 (the noise)"
    assert torch.allclose(hw.flow.fm_interpolate(x0, x1, 1.0), x1), "t = 1 must give x1 (the data)"
    t = torch.tensor([0.0, 1.0, 0.0, 1.0])
    out = hw.flow.fm_interpolate(x0, x1, t)
    assert out.shape == (4, 1, 28, 28), f"a per-sample t of shape (N,) must give (N, 1, 28, 28), got {tuple(out.shape)}"
    assert torch.allclose(out[1], x1[1]) and torch.allclose(out[2], x0[2]), "each sample must use its own t"


def _forward(student: Student) -> tuple[Outcome, torch.Tensor, torch.Tensor, torch.Tensor]:
    x1, noise, t = inputs.images(4, seed=32), inputs.noise(4, seed=33), torch.tensor([0.1, 0.4, 0.7, 0.95])
    return student.fn("flow.fm_forward")(mock(), x1, N_STEPS, noise=noise, t=t), x1, noise, t


@graded("fm_forward: the loss with fixed noise and t", points=3)
def test_fm_forward_loss(student: Student) -> None:
    out, x1, noise, t = _forward(student)
    x_t = ref.fm_interpolate(noise, x1, t)
    expected = F.mse_loss(ref.mock_eps(x_t, t), (x1 - noise).double())
    expect_scalar(out.value, expected, "fm_forward(mock_unet, x1, num_ts, noise=x0, t): mean |u(x_t, t) - (x1 - x0)|^2",
                  wrong.fm_forward(x1, noise, t, N_STEPS))


@self_check("test_fm_forward_loss", points=2)
def public_fm_forward_returns_a_finite_scalar(hw, kit, time_net, class_net):
    x1, noise, t = kit.images(), torch.randn(4, 1, 28, 28), torch.rand(4)
    a = hw.flow.fm_forward(time_net, x1, 50, noise=noise, t=t)
    assert kit.is_scalar(a), f"time-only: expected a finite 0-dimensional tensor, got {a!r}"
    assert torch.equal(hw.flow.fm_forward(time_net, x1, 50, noise=noise, t=t), a), "fixed noise and t: same loss"
    loss = hw.flow.fm_forward(class_net, x1, 50, c=kit.one_hot([0, 1, 2, 3]))
    assert kit.is_scalar(loss), f"with classes: expected a finite 0-dimensional tensor, got {loss!r}"


@graded("fm_forward gives the UNet x_t and t", points=1)
def test_fm_forward_unet_inputs(student: Student) -> None:
    out, x1, noise, t = _forward(student)
    rec = first_call(out.records, "the UNet's inputs in fm_forward")
    expect_close(rec.x, ref.fm_interpolate(noise, x1, t), "the x the UNet received in fm_forward (should be x_t)",
                 wrong.fm_interpolate(noise, x1, t))
    expect_close(rec.t, t.double(), "the t the UNet received in fm_forward (t itself, in [0, 1])",
                 {"t * num_ts: flow matching's t is already in [0, 1]": t.double() * N_STEPS, "1 - t": 1 - t.double()},
                 atol=1e-6)


@graded("fm_forward drops the class with probability p_uncond", points=1, visibility="after_published")
def test_fm_forward_p_uncond(student: Student) -> None:
    c = inputs.one_hot([i % 10 for i in range(256)])
    x1 = inputs.images(256, seed=4)
    out = student.fn("flow.fm_forward", repeat=16, seed=7)(mock(record_x=False), x1, N_STEPS, c=c)
    what = "the fraction of samples whose class fm_forward drops (p_uncond = 0.1)"
    rate = dropout_rate(out.records, c, what)
    expect_true(abs(rate - 0.1) < 0.025, what, f"  {rate:.3f} of 4096 rows were all zeros (expected 0.1 +- 0.025)",
                dropout_hint(rate, 0.1))


def _euler_run(student: Student, **kwargs) -> Outcome:
    kwargs = kwargs if "c" in kwargs else {"num_samples": 3, **kwargs}
    return student.fn("flow.fm_sample")(mock(), (28, 28), N_STEPS, **kwargs)


@graded("fm_sample integrates a known velocity field exactly like Euler", points=3)
def test_fm_sample_euler(student: Student) -> None:
    out = _euler_run(student)
    start = first_call(out.records, "fm_sample's calls of the velocity field").x
    expect_standard_normal(start, "fm_sample's starting point x_0 (noise)")
    velocity = lambda x, t: ref.mock_eps(x, t)
    expect_close(out.value, ref.euler(start, N_STEPS, velocity),
                 f"fm_sample with u(x, t) = {0.5} x + {0.7} t and num_ts = {N_STEPS}: the exact Euler result",
                 wrong.fm_sample(start, N_STEPS, velocity), rtol=1e-4, atol=1e-4)


@graded("fm_sample evaluates the velocity at t = 0, 1/n, ..., (n-1)/n", points=1)
def test_fm_sample_timesteps(student: Student) -> None:
    records = _euler_run(student).records
    got = torch.tensor([float(r.t[0]) for r in records], dtype=torch.float64)
    i = torch.arange(N_STEPS, dtype=torch.float64)
    expect_close(got, i / N_STEPS, f"the times of fm_sample's velocity calls (num_ts = {N_STEPS})", {
        "t = (i + 1) / n: the first step is at t = 0": (i + 1) / N_STEPS,
        "t from 1 down to 0: integrate from noise (t = 0) to data (t = 1)": 1 - i / N_STEPS,
        "the step index i instead of t = i / n": i,
        "t = i / (n - 1)": i / (N_STEPS - 1),
    }, atol=1e-6)
    plausible.expect_euler_chain(records, N_STEPS, "fm_sample's steps, from one velocity call to the next")


@self_check("test_fm_sample_timesteps", points=1)
def public_fm_sample_time_only(hw, time_net):
    out = hw.flow.fm_sample(time_net, (28, 28), 10, seed=0, num_samples=2)
    assert out.shape == (2, 1, 28, 28), f"expected (num_samples, 1, 28, 28) = (2, 1, 28, 28), got {tuple(out.shape)}"


@graded("fm_sample(frame_every=50) also returns the sampling GIF's frames", points=1)
def test_fm_sample_frames(student: Student) -> None:
    # The handout's 300 steps: past 256, `i is num_ts - 1` is no longer `==` (Python caches small ints only).
    out = student.fn("flow.fm_sample")(mock(), (28, 28), 300, num_samples=2, frame_every=50)
    inputs = [r.x for r in out.records if r.x is not None]
    plausible.expect_frames(out.value, inputs, 50, "fm_sample(..., num_ts = 300, frame_every=50)")


@graded("fm_sample: same seed, same images; shape (N, 1, H, W) for img_wh = (W, H)", points=1)
def test_fm_sample_seed(student: Student) -> None:
    c = inputs.one_hot([1, 2, 3])
    sample = student.fn("flow.fm_sample")
    first = sample(mock(), (28, 28), N_STEPS, seed=0, c=c).value
    first = expect_tensor(first, "fm_sample(..., seed=0, c)", (3, 1, 28, 28))
    wide = sample(mock(), (20, 12), N_STEPS, seed=0, num_samples=2).value  # img_wh is (width, height)
    expect_tensor(wide, "fm_sample(unet, img_wh=(20, 12), ..., num_samples=2): width 20, height 12", (2, 1, 12, 20))
    again = student.fn("flow.fm_sample", seed=123)(mock(), (28, 28), N_STEPS, seed=0, c=c).value
    other = sample(mock(), (28, 28), N_STEPS, seed=1, c=c).value
    expect_true(isinstance(again, torch.Tensor) and torch.equal(first, again), "fm_sample(..., seed=0) twice",
                "  the images differ although the seed is the same",
                "draw the starting noise from a torch.Generator seeded with `seed`")
    expect_true(isinstance(other, torch.Tensor) and not torch.equal(first, other), "fm_sample with seed=0 and seed=1",
                "  the images are identical: the seed argument is ignored")


@self_check("test_fm_sample_seed", points=2)
def public_fm_sample_shape_and_seed(hw, kit, class_net):
    run = lambda seed: hw.flow.fm_sample(class_net, (28, 28), 10, seed=seed, c=kit.one_hot([1, 2, 3]))
    a = run(0)
    assert isinstance(a, torch.Tensor), f"fm_sample returns a tensor, got {type(a).__name__}"
    assert a.shape == (3, 1, 28, 28), f"expected (len(c), 1, 28, 28) = (3, 1, 28, 28), got {tuple(a.shape)}"
    assert torch.isfinite(a).all()
    assert torch.equal(run(0), a), "the same seed must give the same images"
    assert not torch.equal(run(1), a), "another seed must give other images"


@graded("fm_sample applies classifier-free guidance", points=1, visibility="after_published")
def test_fm_sample_cfg(student: Student) -> None:
    c, scale = inputs.one_hot([2, 8]), 5.0
    out = _euler_run(student, c=c, guidance_scale=scale)
    start = first_call(out.records, "fm_sample's calls of the velocity field").x[:2]
    zeros = torch.zeros_like(c)
    guided = lambda x, t: ref.cfg(ref.mock_eps(x, t, c), ref.mock_eps(x, t, zeros), scale)
    mistakes = {
        label: ref.euler(start, N_STEPS, lambda x, t, label=label: wrong.guidance(
            ref.mock_eps(x, t, c), ref.mock_eps(x, t, zeros), scale)[label])
        for label in wrong.guidance(start, start, scale)
    }
    expect_close(out.value, ref.euler(start, N_STEPS, guided), "fm_sample(..., c, guidance_scale=5): guided Euler",
                 mistakes, rtol=1e-4, atol=1e-4)


@graded("FlowMatching(unet).forward and .sample", points=1, visibility="after_published")
def test_flow_matching_wrapper(student: Student) -> None:
    x1 = inputs.images(256, seed=34)
    out = student.new("flow.FlowMatching", mock(), num_ts=10).forward(x1)
    rec = first_call(out.records, "FlowMatching(mock_unet, num_ts=10).forward(x1)")
    t = rec.t
    expect_true(bool((t >= 0).all() and (t < 1).all()) and t.std() > 0.2, "the t FlowMatching.forward draws",
                f"  t = {t[:4].tolist()}...: expected t ~ U[0, 1), one per sample")
    col = t.reshape(-1, 1, 1, 1)
    x0 = (rec.x.double() - col * x1.double()) / (1 - col)  # the noise it must have drawn
    expect_scalar(out.value, F.mse_loss(ref.mock_eps(rec.x, t), x1.double() - x0),
                  "FlowMatching.forward(x1): the loss, recomputed from the UNet's input x_t and t", rtol=1e-3)
    images = student.new("flow.FlowMatching", mock(), num_ts=10).sample((28, 28), c=inputs.one_hot([1, 2]))
    expect_tensor(images.value, "FlowMatching(mock_unet, num_ts=10).sample((28, 28), c=<2 classes>)", (2, 1, 28, 28))
