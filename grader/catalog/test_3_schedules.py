"""3. Variance schedules: linear, cosine (Nichol & Dhariwal 2021), sigmoid (handout), and the
alphas / alpha_bars of ddpm_schedule."""

from __future__ import annotations

from typing import Any

import torch

from grader.checks import misconceptions as wrong
from grader.checks import reference as ref
from grader.checks.expect import Mismatch, expect_close, expect_tensor
from grader.plugin import graded
from grader.sandbox.student import Student


@graded("linear_beta_schedule: length, endpoints, even spacing", points=3)
def test_linear_schedule(student: Student) -> None:
    for args in [(1e-4, 0.02, 300), (1e-3, 0.05, 10)]:
        got = student.fn("schedules.linear_beta_schedule")(*args).value
        expect_close(got, ref.linear_betas(*args), f"linear_beta_schedule{args}", wrong.linear_betas(*args), atol=1e-7)


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


@graded("cosine_beta_schedule follows Nichol & Dhariwal (2021)", points=2)
def test_cosine_schedule(student: Student) -> None:
    for num_ts in (300, 50):
        got = student.fn("schedules.cosine_beta_schedule")(num_ts=num_ts).value
        expect_tensor(got, f"cosine_beta_schedule(num_ts={num_ts})", (num_ts,), wrong.cosine_betas(num_ts))
        # float32 arithmetic makes 1 - ab_t / ab_{t-1} inexact by ~1e-7: compare at 1e-6.
        expect_close(got, ref.cosine_betas(num_ts), f"cosine_beta_schedule(num_ts={num_ts})",
                     wrong.cosine_betas(num_ts), rtol=1e-3, atol=1e-6)


@graded("sigmoid_beta_schedule follows the handout's formula", points=2)
def test_sigmoid_schedule(student: Student) -> None:
    for args, kwargs in [((1e-4, 0.02, 300), {}), ((1e-3, 0.05, 10), {}), ((1e-4, 0.02, 100), {"s_limit": 3.0})]:
        got = student.fn("schedules.sigmoid_beta_schedule")(*args, **kwargs).value
        what = f"sigmoid_beta_schedule{args}" + (f" with s_limit={kwargs['s_limit']}" if kwargs else "")
        expect_close(got, ref.sigmoid_betas(*args, **kwargs), what, wrong.sigmoid_betas(*args, **kwargs),
                     rtol=1e-4, atol=1e-7)


@graded("ddpm_schedule(kind=\"cosine\" | \"sigmoid\") uses those schedules", points=2, visibility="after_published")
def test_ddpm_schedule_kinds(student: Student) -> None:
    got = student.fn("schedules.ddpm_schedule")(num_ts=100, kind="cosine").value
    _schedule_dict(got, "ddpm_schedule(num_ts=100, kind='cosine')")
    expect_close(got["betas"], ref.cosine_betas(100), "ddpm_schedule(num_ts=100, kind='cosine')['betas']",
                 rtol=1e-3, atol=1e-6)
    got = student.fn("schedules.ddpm_schedule")(1e-4, 0.02, 100, kind="sigmoid").value
    _expect_schedule(got, ref.sigmoid_betas(1e-4, 0.02, 100), "ddpm_schedule(1e-4, 0.02, 100, kind='sigmoid')")
