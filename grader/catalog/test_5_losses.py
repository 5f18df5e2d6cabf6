"""5. The training loss: p_losses with a recording mock UNet, and ddpm_forward's random t and
class dropout (statistical, seeded)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.checks import inputs, plausible
from grader.checks import misconceptions as wrong
from grader.checks import reference as ref
from grader.checks.calls import dropout_hint, dropout_rate, expect_time, first_call
from grader.checks.expect import Mismatch, expect_close, expect_scalar, expect_true
from grader.checks.stats import expect_standard_normal
from grader.plugin import graded, self_check
from grader.sandbox.student import Record, Student, mock

T = 300
SCHED = ref.schedule(T)


def _loss_case(student: Student, loss_type: str, c: torch.Tensor | None = None, mask: torch.Tensor | None = None):
    x0, noise, t = inputs.images(4), inputs.noise(4), inputs.steps([0, 75, 150, 299])
    kwargs = {"noise": noise, "loss_type": loss_type}
    if c is not None:
        kwargs.update(c=c, mask=mask)
    out = student.fn("diffusion.p_losses")(mock(), x0, t, SCHED, **kwargs)
    return out, x0, noise, t


@graded("p_losses: the l2 loss value", points=3)
def test_p_losses_l2(student: Student) -> None:
    out, x0, noise, t = _loss_case(student, "l2")
    expected = F.mse_loss(ref.mock_eps(ref.q_sample(x0, t, SCHED, noise), t / T), noise.double())
    expect_scalar(out.value, expected, "p_losses(mock_unet, x0, t, sched, noise, loss_type='l2')",
                  wrong.p_losses(x0, t, SCHED, noise, "l2"))


@graded("p_losses: the l1 loss value", points=1)
def test_p_losses_l1(student: Student) -> None:
    out, x0, noise, t = _loss_case(student, "l1")
    expected = F.l1_loss(ref.mock_eps(ref.q_sample(x0, t, SCHED, noise), t / T), noise.double())
    expect_scalar(out.value, expected, "p_losses(mock_unet, x0, t, sched, noise, loss_type='l1')",
                  wrong.p_losses(x0, t, SCHED, noise, "l1"))


@self_check("test_p_losses_l2", "test_p_losses_l1", points=2)
def public_p_losses_l2_and_l1_are_finite_scalars(hw, kit, time_net):
    x0, t, noise = kit.images(), torch.tensor([0, 4, 9, 19]), torch.randn(4, 1, 28, 28)
    for loss_type in ("l2", "l1"):
        loss = hw.diffusion.p_losses(time_net, x0, t, kit.schedule(20), noise, loss_type=loss_type)
        assert kit.is_scalar(loss), f"loss_type={loss_type!r}: expected a finite 0-dimensional tensor, got {loss!r}"
    loss.backward()
    assert time_net.conv.weight.grad is not None, "the loss must be differentiable with respect to the network"


@graded("p_losses gives the UNet x_t and t / T", points=2)
def test_p_losses_unet_inputs(student: Student) -> None:
    out, x0, noise, t = _loss_case(student, "l2")
    rec = first_call(out.records, "the UNet's inputs in p_losses")
    expect_close(rec.x, ref.q_sample(x0, t, SCHED, noise), "the x the UNet received in p_losses (should be x_t)",
                 {"x0 instead of x_t": x0, "the noise instead of x_t": noise, **wrong.q_sample(x0, t, SCHED, noise)})
    expect_time(rec, t, T, "the time the UNet received in p_losses (should be t / T)")


@graded("p_losses passes c, with masked rows zeroed", points=1, visibility="after_published")
def test_p_losses_class(student: Student) -> None:
    c, mask = inputs.one_hot([1, 2, 3, 4]), torch.tensor([1, 0, 1, 1])
    out, x0, noise, t = _loss_case(student, "l2", c=c, mask=mask)
    rec = first_call(out.records, "the UNet's inputs in p_losses with c and mask")
    expect_true(rec.c is not None, "p_losses(..., c, mask)", "  the UNet was called without c")
    expect_close(rec.c, c * mask[:, None], "the c the UNet received (rows where mask = 0 must be zero)",
                 {"c unchanged: the mask was ignored": c,
                  "rows where mask = 1 zeroed: the mask is inverted": c * (1 - mask[:, None])})
    expected = F.mse_loss(ref.mock_eps(ref.q_sample(x0, t, SCHED, noise), t / T, c * mask[:, None]), noise.double())
    expect_scalar(out.value, expected, "p_losses(mock_unet, x0, t, sched, noise, c=c, mask=mask)")


def _draws(student: Student, c: torch.Tensor | None = None, p_uncond: float | None = None) -> list[Record]:
    """16 batches of 256 through ddpm_forward: 4096 draws of t (and of the class dropout)."""
    x0 = inputs.images(256, seed=4)
    kwargs = {} if c is None else {"c": c}
    if p_uncond is not None:
        kwargs["p_uncond"] = p_uncond
    out = student.fn("diffusion.ddpm_forward", repeat=16, seed=7)(mock(record_x=False), SCHED, x0, T, **kwargs)
    return out.records


@graded("ddpm_forward draws t uniformly from 0 .. T-1", points=2)
def test_ddpm_forward_t_range(student: Student) -> None:
    records = _draws(student)
    what = "the timesteps ddpm_forward draws (seen by the UNet as t / T)"
    expect_true(len(records) > 0, what, "  the UNet was never called")
    k = torch.cat([r.t for r in records]) * T
    if k.max() > T * 1.5:
        raise Mismatch(what, f"  the UNet received times up to {k.max() / T:g}", "the UNet gets t / T, in [0, 1)")
    ints = (k - k.round()).abs().max() < 1e-3
    expect_true(bool(ints), what, "  t * T is not an integer: t must be an integer timestep 0 .. T-1 (torch.randint)")
    k = k.round().long()
    low, high = int(k.min()), int(k.max())
    hint = {T: "t drawn from 1 .. T; torch.randint(0, T) gives 0 .. T-1",
            T - 2: "T - 1 is never drawn: torch.randint's upper bound is exclusive, use torch.randint(0, T)"}.get(high)
    if hint is None and low == 1:
        hint = "t = 0 is never drawn: torch.randint(0, T) gives 0 .. T-1"
    detail = f"  {len(k)} draws range over {low} .. {high}, not 0 .. {T - 1}"
    expect_true(low == 0 and high == T - 1, what, detail, hint)
    counts = torch.bincount(k, minlength=T).reshape(10, -1).sum(1).double()
    expected = len(k) / 10
    expect_true(bool(((counts - expected).abs() < 0.25 * expected).all()), what,
                f"  not uniform: counts per tenth of the range {counts.long().tolist()} (about {expected:.0f} each?)")
    _expect_loss_of_its_draws(student)


@self_check("test_ddpm_forward_t_range", points=2)
def public_ddpm_forward_returns_a_finite_scalar(hw, kit, time_net, class_net):
    loss = hw.diffusion.ddpm_forward(time_net, kit.schedule(20), kit.images(), 20)
    assert kit.is_scalar(loss), f"time-only: expected a finite 0-dimensional tensor, got {loss!r}"
    loss = hw.diffusion.ddpm_forward(class_net, kit.schedule(20), kit.images(), 20, c=kit.one_hot([5, 6, 7, 8]))
    assert kit.is_scalar(loss), f"with classes: expected a finite 0-dimensional tensor, got {loss!r}"


def _expect_loss_of_its_draws(student: Student) -> None:
    """Paired with the t-range test: the UNet's input is x0 noised at the drawn t (the noise it
    implies is of unit size), and the loss returned is the UNet's error on that noise."""
    x0 = inputs.images(8, seed=4)
    out = student.fn("diffusion.ddpm_forward", seed=7)(mock(), SCHED, x0, T)
    rec = first_call(out.records, "the UNet's input in ddpm_forward")
    what = "ddpm_forward's UNet input x_t and the loss it returns"
    if rec.x is None or rec.x.shape != x0.shape:
        raise Mismatch(what, "  the UNet's input is not a batch of the images' shape", plausible.WHY)
    t = (rec.t * T).round().long().clamp(0, T - 1)
    ab = ref.at(SCHED["alpha_bars"], t, x0).double()
    noise = (rec.x.double() - ab.sqrt() * x0.double()) / (1 - ab).sqrt()
    std = float(noise.std())
    expect_true(0.5 <= std <= 2.0, what, f"  the noise x_t implies, (x_t - sqrt(ab_t) x0) / sqrt(1 - ab_t), has "
                f"standard deviation {std:.3g}: x_t is not x0 noised at the t the UNet was given", plausible.WHY)
    expected = torch.nn.functional.mse_loss(ref.mock_eps(rec.x, rec.t), noise)
    plausible.expect_roughly(out.value, expected, f"{what}: the loss", 0.05 * float(expected) + 1e-6)


@graded("ddpm_forward drops the class with probability 0.1", points=2)
def test_ddpm_forward_p_uncond(student: Student) -> None:
    c = inputs.one_hot([i % 10 for i in range(256)])
    what = "the fraction of samples whose class ddpm_forward drops (p_uncond = 0.1)"
    rate = dropout_rate(_draws(student, c), c, what)
    expect_true(abs(rate - 0.1) < 0.025, what, f"  {rate:.3f} of 4096 rows were all zeros, not 0.1 +- 0.025",
                dropout_hint(rate, 0.1))


@graded("ddpm_forward uses its p_uncond argument", points=1, visibility="after_published")
def test_ddpm_forward_p_uncond_argument(student: Student) -> None:
    c = inputs.one_hot([i % 10 for i in range(256)])
    what = "the fraction of dropped classes with ddpm_forward(..., p_uncond=0.5)"
    rate = dropout_rate(_draws(student, c, p_uncond=0.5), c, what)
    expect_true(abs(rate - 0.5) < 0.04, what, f"  {rate:.3f} of 4096 rows were all zeros (expected 0.5 +- 0.04)",
                "use the p_uncond argument, not a fixed 0.1" if abs(rate - 0.1) < 0.03 else dropout_hint(rate, 0.5))


@graded("DDPM(unet, num_ts=50).forward gives the loss with T = 50", points=2, visibility="after_published")
def test_ddpm_wrapper_forward(student: Student) -> None:
    n, num_ts = 256, 50
    x0 = inputs.images(n, seed=6)
    out = student.new("diffusion.DDPM", mock(), num_ts=num_ts).forward(x0)
    what = "DDPM(mock_unet, num_ts=50).forward(x0)"
    rec = first_call(out.records, what)
    k = rec.t * num_ts
    t = k.round().long()
    expect_true(bool((k - t).abs().max() < 1e-3) and t.min() >= 0 and t.max() <= num_ts - 1 and t.max() >= 45,
                what, f"  the UNet received times {rec.t[:4].tolist()}...; expected t / 50 with t in 0 .. 49",
                "DDPM(num_ts=50) must draw t from 0 .. 49 and normalise by 50")
    sched = ref.schedule(num_ts)
    ab = ref.at(sched["alpha_bars"], t, x0)
    noise = (rec.x.double() - ab.sqrt() * x0.double()) / (1 - ab).sqrt()  # the noise it must have drawn
    expect_scalar(out.value, F.mse_loss(ref.mock_eps(rec.x, rec.t), noise),
                  f"{what}: the loss, recomputed from the UNet's input x_t and t", rtol=1e-3)


@self_check(points=1)
def public_p_losses_with_classes_and_mask(hw, kit, class_net):
    x0, t, c = kit.images(), torch.tensor([0, 4, 9, 19]), kit.one_hot([0, 1, 2, 3])
    loss = hw.diffusion.p_losses(class_net, x0, t, kit.schedule(20), c=c, mask=torch.tensor([1.0, 0.0, 1.0, 1.0]))
    assert kit.is_scalar(loss), f"expected a finite 0-dimensional tensor, got {loss!r}"


# -- course dialects ----------------------------------------------------------------------------------


@graded("ddpm_forward gives the UNet x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, eps ~ N(0, I), and returns its error",
        points=3, dialects=("cs180-fa24-ddpm",))
def test_ddpm_forward_closed_form(student: Student) -> None:
    """The course noises inside ddpm_forward: the UNet's input and t (a recording UNet sees both) must be
    x0 noised in closed form at that t with standard normal noise, and the loss the UNet's error on it."""
    x0 = inputs.images(64, seed=4)
    out = student.fn("diffusion.ddpm_forward", seed=7)(mock(), SCHED, x0, T)
    rec = first_call(out.records, "the UNet's input in ddpm_forward")
    what = "ddpm_forward's UNet input x_t"
    if rec.x is None or rec.x.shape != x0.shape:
        raise Mismatch(what, "  the UNet's input is not a batch of the images' shape")
    k = rec.t.double() * T
    expect_true(bool((k - k.round()).abs().max() < 1e-3) and 0 <= int(k.min()) and int(k.max()) <= T - 1, what,
                f"  the UNet received times {rec.t[:4].tolist()}...: not t / T for integer steps 0 .. T-1",
                "the UNet gets the normalised time t / T")
    t = k.round().long()
    ab = ref.at(SCHED["alpha_bars"], t, x0)
    noise = (rec.x.double() - ab.sqrt() * x0.double()) / (1 - ab).sqrt()
    expect_standard_normal(noise, "the noise ddpm_forward's x_t implies, (x_t - sqrt(ab_t) x0) / sqrt(1 - ab_t), at "
                           "the t the UNet was given")
    expect_scalar(out.value, F.mse_loss(ref.mock_eps(rec.x, rec.t), noise),
                  "ddpm_forward's loss, recomputed from the UNet's input x_t and that noise", rtol=1e-3)
