"""Beta schedules against their closed forms."""

from __future__ import annotations

import math

import pytest
import torch

from solution.schedules import cosine_beta_schedule, ddpm_schedule, linear_beta_schedule, sigmoid_beta_schedule


def test_linear_endpoints_spacing_and_length() -> None:
    b = linear_beta_schedule(1e-4, 0.02, 300)
    assert b.shape == (300,) and b.dtype == torch.float32
    assert b[0].item() == pytest.approx(1e-4) and b[-1].item() == pytest.approx(0.02)
    steps = b[1:] - b[:-1]
    torch.testing.assert_close(steps, torch.full_like(steps, (0.02 - 1e-4) / 299), rtol=1e-3, atol=1e-8)


def test_ddpm_schedule_alphas_and_alpha_bars() -> None:
    s = ddpm_schedule(1e-4, 0.02, 300)
    assert set(s) == {"betas", "alphas", "alpha_bars"}
    torch.testing.assert_close(s["alphas"], 1 - s["betas"])
    expected, prod = [], 1.0
    for a in s["alphas"].double().tolist():
        prod *= a
        expected.append(prod)
    torch.testing.assert_close(s["alpha_bars"].double(), torch.tensor(expected, dtype=torch.float64), rtol=1e-5, atol=0)
    # nearly clean at t = 0; about exp(-sum of betas) = 5% signal left at T-1 with T = 300
    assert s["alpha_bars"][0].item() == pytest.approx(1 - 1e-4) and 0.04 < s["alpha_bars"][-1] < 0.06


def test_cosine_matches_nichol_dhariwal() -> None:
    T, s = 300, 0.008
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    ab = [f(t) / f(0) for t in range(T + 1)]
    expected = torch.tensor([min(1 - ab[t + 1] / ab[t], 0.999) for t in range(T)])
    got = cosine_beta_schedule(T)
    assert got.shape == (T,)
    torch.testing.assert_close(got, expected.float(), rtol=1e-5, atol=1e-7)
    assert got.max() <= 0.999
    # alpha_bar from the betas follows f(t) / f(0)
    torch.testing.assert_close(
        torch.cumprod(1 - got.double(), 0)[:-1], torch.tensor(ab[1:T], dtype=torch.float64), rtol=1e-4, atol=1e-6
    )


def test_sigmoid_matches_formula() -> None:
    T, b0, b1, s = 300, 1e-4, 0.02, 6.0
    sig = lambda v: 1 / (1 + math.exp(-v))
    expected = torch.tensor([b0 + sig(-s + 2 * t * s / T) * (b1 - b0) for t in range(T)])
    torch.testing.assert_close(sigmoid_beta_schedule(b0, b1, T, s), expected.float(), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("kind", ["linear", "cosine", "sigmoid"])
def test_every_kind_is_a_valid_schedule(kind: str) -> None:
    s = ddpm_schedule(num_ts=100, kind=kind)
    assert all(v.shape == (100,) for v in s.values())
    assert ((s["betas"] > 0) & (s["betas"] < 1)).all()
    assert (s["alpha_bars"][1:] < s["alpha_bars"][:-1]).all()


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="linear, cosine or sigmoid"):
        ddpm_schedule(kind="quadratic")
