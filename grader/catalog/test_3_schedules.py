"""3. Variance schedules: linear, cosine (Nichol & Dhariwal 2021), sigmoid (handout), and the
alphas / alpha_bars of ddpm_schedule."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from grader.checks import misconceptions as wrong
from grader.checks import reference as ref
from grader.checks.expect import Mismatch, expect_close, expect_one_of, expect_tensor, expect_true
from grader.plugin import graded, self_check
from grader.sandbox.student import Student


@graded("linear_beta_schedule: length, endpoints, even spacing", points=3)
def test_linear_schedule(student: Student) -> None:
    for args in [(1e-4, 0.02, 300), (1e-3, 0.05, 10)]:
        got = student.fn("schedules.linear_beta_schedule")(*args).value
        expect_close(got, ref.linear_betas(*args), f"linear_beta_schedule{args}", wrong.linear_betas(*args), atol=1e-7)


@self_check("test_linear_schedule", points=2)
def public_linear_schedule_length_range_and_ends(hw, kit):
    for num_ts in (300, 50):
        betas = hw.schedules.linear_beta_schedule(1e-4, 0.02, num_ts)
        kit.check_betas(betas, num_ts)
        assert betas[0].item() == pytest.approx(1e-4) and betas[-1].item() == pytest.approx(0.02), (
            "the linear schedule starts at beta_start and ends at beta_end"
        )
        assert bool((betas[1:] > betas[:-1]).all()), "the linear schedule must increase"


def _schedule_dict(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise Mismatch(what, f"  expected a dict with keys betas, alphas, alpha_bars; got {type(value).__name__}")
    missing = [k for k in ("betas", "alphas", "alpha_bars") if k not in value]
    if missing:
        raise Mismatch(what, f"  the dict has no {', '.join(missing)} (its keys: {sorted(value)})")
    return value


def _expect_schedule(value: Any, betas: torch.Tensor, what: str) -> None:
    sched = _schedule_dict(value, what)
    expect = ref.schedule_from_betas(betas, torch.float64)
    mistakes = wrong.alphas_and_bars(betas)
    expect_close(sched["betas"], expect["betas"], f"{what}['betas']", atol=1e-7)
    expect_close(sched["alphas"], expect["alphas"], f"{what}['alphas']", mistakes["alphas"], atol=1e-7)
    expect_close(sched["alpha_bars"], expect["alpha_bars"], f"{what}['alpha_bars']", mistakes["alpha_bars"], atol=1e-6)


@graded("ddpm_schedule: betas, alphas and alpha_bars", points=3)
def test_ddpm_schedule(student: Student) -> None:
    for args in [(1e-4, 0.02, 300), (1e-3, 0.05, 10)]:
        got = student.fn("schedules.ddpm_schedule")(*args).value
        _expect_schedule(got, ref.linear_betas(*args), f"ddpm_schedule{args}")


@self_check("test_ddpm_schedule", points=2)
def public_ddpm_schedule_keys_alphas_and_alpha_bars(hw):
    sched = hw.schedules.ddpm_schedule(1e-4, 0.02, 300)
    assert isinstance(sched, dict), f"ddpm_schedule returns a dict, got {type(sched).__name__}"
    assert set(sched) >= {"betas", "alphas", "alpha_bars"}, f"missing keys: got {sorted(sched)}"
    for key in ("betas", "alphas", "alpha_bars"):
        assert sched[key].shape == (300,), f"{key} must have shape (300,), got {tuple(sched[key].shape)}"
    assert torch.allclose(sched["alphas"], 1 - sched["betas"]), "alphas must be 1 - betas"
    assert torch.allclose(sched["alpha_bars"], torch.cumprod(sched["alphas"], 0)), (
        "alpha_bars must be the cumulative product of the alphas"
    )


@graded("cosine_beta_schedule follows Nichol & Dhariwal (2021)", points=2)
def test_cosine_schedule(student: Student) -> None:
    for num_ts in (300, 75):  # an odd T too: num_ts | 1 is num_ts + 1 only for an even one
        got = student.fn("schedules.cosine_beta_schedule")(num_ts=num_ts).value
        expect_tensor(got, f"cosine_beta_schedule(num_ts={num_ts})", (num_ts,), wrong.cosine_betas(num_ts))
        # float32 arithmetic makes 1 - ab_t / ab_{t-1} inexact by ~1e-7: compare at 1e-6.
        expect_close(got, ref.cosine_betas(num_ts), f"cosine_beta_schedule(num_ts={num_ts})",
                     wrong.cosine_betas(num_ts), rtol=1e-3, atol=1e-6)


@self_check("test_cosine_schedule", points=1)
def public_cosine_schedule_length_and_range(hw, kit):
    betas = hw.schedules.cosine_beta_schedule(100)
    kit.check_betas(betas, 100)
    assert float(betas.max()) <= 0.999 + 1e-6, "the cosine schedule is clipped at max_beta"


@graded("sigmoid_beta_schedule follows the handout's formula", points=2)
def test_sigmoid_schedule(student: Student) -> None:
    for args, kwargs in [((1e-4, 0.02, 300), {}), ((1e-3, 0.05, 10), {}), ((1e-4, 0.02, 100), {"s_limit": 3.0})]:
        got = student.fn("schedules.sigmoid_beta_schedule")(*args, **kwargs).value
        what = f"sigmoid_beta_schedule{args}" + (f" with s_limit={kwargs['s_limit']}" if kwargs else "")
        expect_close(got, ref.sigmoid_betas(*args, **kwargs), what, wrong.sigmoid_betas(*args, **kwargs),
                     rtol=1e-4, atol=1e-7)


@self_check("test_sigmoid_schedule", points=1)
def public_sigmoid_schedule_length_and_range(hw, kit):
    betas = hw.schedules.sigmoid_beta_schedule(1e-4, 0.02, 100)
    kit.check_betas(betas, 100)
    assert float(betas.min()) >= 1e-4 - 1e-7 and float(betas.max()) <= 0.02 + 1e-7, (
        "the sigmoid schedule stays between beta_start and beta_end"
    )


@graded("ddpm_schedule(kind=\"cosine\" | \"sigmoid\") uses those schedules", points=2, visibility="after_published")
def test_ddpm_schedule_kinds(student: Student) -> None:
    got = student.fn("schedules.ddpm_schedule")(num_ts=100, kind="cosine").value
    _schedule_dict(got, "ddpm_schedule(num_ts=100, kind='cosine')")
    expect_close(got["betas"], ref.cosine_betas(100), "ddpm_schedule(num_ts=100, kind='cosine')['betas']",
                 rtol=1e-3, atol=1e-6)
    got = student.fn("schedules.ddpm_schedule")(1e-4, 0.02, 100, kind="sigmoid").value
    _expect_schedule(got, ref.sigmoid_betas(1e-4, 0.02, 100), "ddpm_schedule(1e-4, 0.02, 100, kind='sigmoid')")


@self_check(points=1)
def public_ddpm_schedule_every_kind_has_length_t(hw):
    for kind in ("linear", "cosine", "sigmoid"):
        sched = hw.schedules.ddpm_schedule(num_ts=40, kind=kind)
        assert sched["alpha_bars"].shape == (40,), f"kind={kind!r}: alpha_bars must have shape (40,)"


# -- course dialects ----------------------------------------------------------------------------------


@graded("cosine_beta_schedule(timesteps) follows Nichol & Dhariwal, clipped at 0.999 or to [1e-4, 0.9999]",
        points=2, dialects=("adl-ex02",))
def test_cosine_schedule_either_clip(student: Student) -> None:
    for num_ts in (300, 75):
        what = f"cosine_beta_schedule({num_ts})"
        got = expect_tensor(student.fn("schedules.cosine_beta_schedule")(num_ts).value, what, (num_ts,),
                            wrong.cosine_betas(num_ts))
        accepted = {"clipped at 0.999": ref.cosine_betas(num_ts),
                    "clipped to [1e-4, 0.9999]": ref.cosine_betas(num_ts, max_beta=0.9999).clamp(min=1e-4)}
        expect_one_of(got, accepted, what, wrong.cosine_betas(num_ts), rtol=1e-3, atol=1e-6)


@graded("sigmoid_beta_schedule: beta_start + (beta_end - beta_start) sigmoid of a rising linear ramp", points=2,
        dialects=("adl-ex02",))
def test_sigmoid_schedule_any_range(student: Student) -> None:
    """The course leaves the sigmoid's input range to the student: the logit of the betas, scaled to
    (0, 1), must be a rising straight line in t, whatever its ends."""
    for args in [(1e-4, 0.02, 300), (1e-3, 0.05, 10)]:
        start, end, num_ts = args
        what = f"sigmoid_beta_schedule{args}"
        got = expect_tensor(student.fn("schedules.sigmoid_beta_schedule")(*args).value, what, (num_ts,),
                            wrong.sigmoid_betas(*args)).double()
        u = (got - start) / (end - start)
        expect_true(bool(torch.isfinite(u).all() and (u > 0).all() and (u < 1).all()), what,
                    f"  the betas run {float(got.min()):.4g} .. {float(got.max()):.4g}, not strictly between "
                    f"beta_start = {start:g} and beta_end = {end:g}",
                    "beta_start + (beta_end - beta_start) * sigmoid(x) with x a linspace (e.g. -6 .. 6)")
        logit = torch.log(u / (1 - u))
        ramp = torch.arange(num_ts, dtype=torch.float64)
        slope = float(((ramp - ramp.mean()) * (logit - logit.mean())).sum() / ((ramp - ramp.mean()) ** 2).sum())
        line = logit.mean() + slope * (ramp - ramp.mean())
        off = float((logit - line).abs().max())
        expect_true(slope > 0 and off < 0.02 * max(1.0, float(logit.abs().max())), what,
                    f"  sigmoid's input, logit((beta - beta_start) / (beta_end - beta_start)), is not a rising "
                    f"straight line in t: it is {off:.3g} off the best line (slope {slope:.3g})",
                    "apply the sigmoid to an evenly spaced, increasing input (torch.linspace)")
