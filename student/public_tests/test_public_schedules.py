"""Self-check of part 3. Variance schedules.

Written from the course's test declarations, beside the grader's own tests; edits here are
overwritten by the next release.
"""

import pytest
import torch


@pytest.mark.points(2)
@pytest.mark.covers("test_linear_schedule")
def test_linear_schedule_length_range_and_ends(hw, kit):
    for num_ts in (300, 50):
        betas = hw.schedules.linear_beta_schedule(1e-4, 0.02, num_ts)
        kit.check_betas(betas, num_ts)
        assert betas[0].item() == pytest.approx(1e-4) and betas[-1].item() == pytest.approx(0.02), (
            "the linear schedule starts at beta_start and ends at beta_end"
        )
        assert bool((betas[1:] > betas[:-1]).all()), "the linear schedule must increase"


@pytest.mark.points(2)
@pytest.mark.covers("test_ddpm_schedule")
def test_ddpm_schedule_keys_alphas_and_alpha_bars(hw):
    sched = hw.schedules.ddpm_schedule(1e-4, 0.02, 300)
    assert isinstance(sched, dict), f"ddpm_schedule returns a dict, got {type(sched).__name__}"
    assert set(sched) >= {"betas", "alphas", "alpha_bars"}, f"missing keys: got {sorted(sched)}"
    for key in ("betas", "alphas", "alpha_bars"):
        assert sched[key].shape == (300,), f"{key} must have shape (300,), got {tuple(sched[key].shape)}"
    assert torch.allclose(sched["alphas"], 1 - sched["betas"]), "alphas must be 1 - betas"
    assert torch.allclose(sched["alpha_bars"], torch.cumprod(sched["alphas"], 0)), (
        "alpha_bars must be the cumulative product of the alphas"
    )


@pytest.mark.points(1)
@pytest.mark.covers("test_cosine_schedule")
def test_cosine_schedule_length_and_range(hw, kit):
    betas = hw.schedules.cosine_beta_schedule(100)
    kit.check_betas(betas, 100)
    assert float(betas.max()) <= 0.999 + 1e-6, "the cosine schedule is clipped at max_beta"


@pytest.mark.points(1)
@pytest.mark.covers("test_sigmoid_schedule")
def test_sigmoid_schedule_length_and_range(hw, kit):
    betas = hw.schedules.sigmoid_beta_schedule(1e-4, 0.02, 100)
    kit.check_betas(betas, 100)
    assert float(betas.min()) >= 1e-4 - 1e-7 and float(betas.max()) <= 0.02 + 1e-7, (
        "the sigmoid schedule stays between beta_start and beta_end"
    )


@pytest.mark.points(1)
@pytest.mark.covers()
def test_ddpm_schedule_every_kind_has_length_t(hw):
    for kind in ("linear", "cosine", "sigmoid"):
        sched = hw.schedules.ddpm_schedule(num_ts=40, kind=kind)
        assert sched["alpha_bars"].shape == (40,), f"kind={kind!r}: alpha_bars must have shape (40,)"
