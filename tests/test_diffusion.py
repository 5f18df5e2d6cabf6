"""Part 1 noising and DDPM against closed forms, with recording mock UNets."""

from __future__ import annotations

import pytest
import torch

from solution.diffusion import DDPM, add_noise, ddpm_forward, ddpm_sample, p_losses, p_sample, q_sample
from solution.schedules import ddpm_schedule

from .mocks import RecordingUNet

T = 300
SCHED = ddpm_schedule(1e-4, 0.02, T)


def test_add_noise_closed_form_and_default_noise() -> None:
    x, eps = torch.rand(4, 1, 28, 28), torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(add_noise(x, 0.5, eps), x + 0.5 * eps)
    z = add_noise(torch.zeros(64, 1, 28, 28), 0.5)
    assert abs(z.mean().item()) < 0.01 and abs(z.std().item() - 0.5) < 0.01


def test_q_sample_closed_form_with_fixed_noise() -> None:
    x0, eps = torch.rand(5, 1, 28, 28), torch.randn(5, 1, 28, 28)
    ab = SCHED["alpha_bars"]
    t = torch.tensor([0, 1, 150, 298, 299])
    expected = ab[t].sqrt().view(-1, 1, 1, 1) * x0 + (1 - ab[t]).sqrt().view(-1, 1, 1, 1) * eps
    torch.testing.assert_close(q_sample(x0, t, SCHED, eps), expected)
    # an int t applies to the whole batch
    torch.testing.assert_close(q_sample(x0, 42, SCHED, eps), ab[42].sqrt() * x0 + (1 - ab[42]).sqrt() * eps)


def test_q_sample_keeps_dtype() -> None:
    x0 = torch.rand(2, 1, 28, 28, dtype=torch.float64)
    out = q_sample(x0, torch.tensor([3, 7]), SCHED, torch.randn_like(x0))
    assert out.dtype == torch.float64 and out.device == x0.device


def test_q_sample_default_noise_is_standard_normal() -> None:
    t = 200
    out = q_sample(torch.zeros(50, 1, 28, 28), t, SCHED) / (1 - SCHED["alpha_bars"][t]).sqrt()
    assert abs(out.mean().item()) < 0.01 and abs(out.std().item() - 1) < 0.01


def test_q_sample_matches_t_one_step_noisings(mnist_test) -> None:
    """x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps, applied for every step up to t, has
    the mean and variance q_sample gives in one shot."""
    n = 4000
    # one real digit, pooled to 14x14 (196 pixels) to keep 300 steps of 4000 chains cheap
    x0 = torch.nn.functional.avg_pool2d(mnist_test[0][:1], 2).reshape(1, -1).double()
    chains = x0.repeat(n, 1)
    betas = SCHED["betas"].double()
    gen = torch.Generator().manual_seed(0)
    for t in range(T):
        chains = (1 - betas[t]).sqrt() * chains + betas[t].sqrt() * torch.randn(
            chains.shape, generator=gen, dtype=torch.float64
        )
        if t in (10, 100, 299):
            ab = SCHED["alpha_bars"][t].double()
            se = ((1 - ab) / n).sqrt().item()  # standard error of one pixel's mean
            # 5 standard errors: the largest of 196 pixel deviations stays far inside it
            torch.testing.assert_close(chains.mean(0), ab.sqrt() * x0[0], atol=5 * se, rtol=0)
            assert chains.var(0).mean().item() == pytest.approx((1 - ab).item(), rel=0.02)
            one_shot = q_sample(x0.repeat(n, 1).float(), t, SCHED).double()
            torch.testing.assert_close(one_shot.mean(0), chains.mean(0), atol=5 * 2**0.5 * se, rtol=0)
            assert one_shot.var(0).mean().item() == pytest.approx(chains.var(0).mean().item(), rel=0.02)


def test_p_losses_l2_l1_and_what_the_unet_received() -> None:
    unet = RecordingUNet(lambda x, c, t: 0.5 * x + t.view(-1, 1, 1, 1))
    x0, eps = torch.rand(4, 1, 28, 28), torch.randn(4, 1, 28, 28)
    t = torch.tensor([0, 10, 100, 299])
    x_t = q_sample(x0, t, SCHED, eps)
    pred = 0.5 * x_t + (t / T).view(-1, 1, 1, 1)
    torch.testing.assert_close(p_losses(unet, x0, t, SCHED, eps), ((pred - eps) ** 2).mean())
    torch.testing.assert_close(p_losses(unet, x0, t, SCHED, eps, loss_type="l1"), (pred - eps).abs().mean())
    call = unet.calls[0]
    torch.testing.assert_close(call["x"], x_t)
    torch.testing.assert_close(call["t"], t / T)
    assert call["c"] is None


def test_p_losses_class_mask_drops_rows() -> None:
    unet = RecordingUNet()
    c = torch.eye(10)[:4]
    p_losses(unet, torch.rand(4, 1, 28, 28), torch.tensor([1, 2, 3, 4]), SCHED, c=c, mask=torch.tensor([1, 0, 1, 0]))
    torch.testing.assert_close(unet.calls[0]["c"], c * torch.tensor([1.0, 0, 1, 0])[:, None])


def test_ddpm_forward_draws_t_over_the_whole_range_and_drops_classes() -> None:
    unet = RecordingUNet()
    n = 6000
    c = torch.eye(10)[torch.arange(n) % 10]
    loss = ddpm_forward(unet, SCHED, torch.rand(n, 1, 2, 2), T, c=c, p_uncond=0.1)
    assert loss.dim() == 0
    t = (unet.calls[0]["t"] * T).round().long()
    assert t.min() == 0 and t.max() == T - 1
    assert abs(t.float().mean().item() - (T - 1) / 2) < 5
    dropped = (unet.calls[0]["c"].abs().sum(1) == 0).float().mean().item()
    assert dropped == pytest.approx(0.1, abs=0.015)


def test_ddpm_forward_time_only_passes_no_class() -> None:
    unet = RecordingUNet()
    ddpm_forward(unet, SCHED, torch.rand(8, 1, 28, 28), T)
    assert unet.calls[0]["c"] is None


def posterior(x_t: torch.Tensor, t: int, eps: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    b, a, ab = (SCHED[k][t] for k in ("betas", "alphas", "alpha_bars"))
    mean = (x_t - b / (1 - ab).sqrt() * eps) / a.sqrt()
    return mean + (b.sqrt() * z if t > 0 else 0)


@pytest.mark.parametrize("t", [299, 150, 1, 0])
def test_p_sample_posterior_mean_and_sigma(t: int) -> None:
    unet = RecordingUNet(lambda x, c, tt: 0.3 * x + 0.1)
    x_t, z = torch.randn(3, 1, 28, 28), torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(p_sample(unet, x_t, t, SCHED, z=z), posterior(x_t, t, 0.3 * x_t + 0.1, z))
    torch.testing.assert_close(unet.calls[0]["t"], torch.full((3,), t / T))


def test_p_sample_adds_no_noise_at_t0() -> None:
    unet = RecordingUNet()
    x_t = torch.randn(2, 1, 28, 28)
    a = p_sample(unet, x_t, 0, SCHED, z=torch.randn_like(x_t))
    b = p_sample(unet, x_t, 0, SCHED)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, x_t / SCHED["alphas"][0].sqrt())


def test_p_sample_per_sample_t() -> None:
    unet = RecordingUNet(lambda x, c, tt: 0.2 * x)
    x_t, z = torch.randn(2, 1, 28, 28), torch.randn(2, 1, 28, 28)
    out = p_sample(unet, x_t, torch.tensor([0, 5]), SCHED, z=z)
    torch.testing.assert_close(out[0], posterior(x_t[:1], 0, 0.2 * x_t[:1], z[:1])[0])
    torch.testing.assert_close(out[1], posterior(x_t[1:], 5, 0.2 * x_t[1:], z[1:])[0])


def cond_mock() -> RecordingUNet:
    """Answers 2 with a class and -1 without one."""
    return RecordingUNet(
        lambda x, c, t: torch.where(c.abs().sum(1).view(-1, 1, 1, 1) > 0, 2.0, -1.0).expand_as(x).clone()
    )


def test_p_sample_classifier_free_guidance() -> None:
    unet = cond_mock()
    x_t, z = torch.randn(2, 1, 28, 28), torch.randn(2, 1, 28, 28)
    out = p_sample(unet, x_t, 100, SCHED, z=z, c=torch.eye(10)[:2], guidance_scale=5.0)
    eps = -1 + 5.0 * (2 - -1)  # uncond + gamma (cond - uncond) = 14
    torch.testing.assert_close(out, posterior(x_t, 100, torch.full_like(x_t, eps), z))
    seen = sorted(bool(call["c"].abs().sum() > 0) for call in unet.calls)
    assert seen == [False, True]  # one conditional and one unconditional evaluation
    # without a guidance scale the conditional prediction is used as is
    torch.testing.assert_close(
        p_sample(cond_mock(), x_t, 100, SCHED, z=z, c=torch.eye(10)[:2]),
        posterior(x_t, 100, torch.full_like(x_t, 2.0), z),
    )


def test_ddpm_sample_calls_order_shape_and_seed() -> None:
    unet = RecordingUNet(lambda x, c, t: 0.1 * x)
    out = ddpm_sample(unet, SCHED, (28, 28), T, seed=3, num_samples=5)
    assert out.shape == (5, 1, 28, 28)
    assert len(unet.calls) == T
    ts = torch.stack([call["t"][0] for call in unet.calls])
    torch.testing.assert_close(ts, torch.arange(T - 1, -1, -1) / T)
    torch.testing.assert_close(ddpm_sample(unet, SCHED, (28, 28), T, seed=3, num_samples=5), out)
    assert not torch.allclose(ddpm_sample(unet, SCHED, (28, 28), T, seed=4, num_samples=5), out)


def test_ddpm_sample_is_the_chain_of_p_samples() -> None:
    """Re-run the chain by hand with the documented generator use: x ~ N(0, I), then one z per step."""
    unet = RecordingUNet(lambda x, c, t: 0.1 * x)
    short = ddpm_schedule(num_ts=10)
    gen = torch.Generator().manual_seed(7)
    x = torch.randn((2, 1, 28, 28), generator=gen)
    for t in reversed(range(10)):
        x = p_sample(unet, x, t, short, z=torch.randn((2, 1, 28, 28), generator=gen))
    torch.testing.assert_close(ddpm_sample(unet, short, (28, 28), 10, seed=7, num_samples=2), x)


def test_ddpm_sample_class_conditioned_and_frames() -> None:
    unet = cond_mock()
    c = torch.eye(10)[[0, 1, 2]]
    out, frames = ddpm_sample(unet, SCHED, (28, 28), T, seed=0, c=c, guidance_scale=5.0, frame_every=50)
    assert out.shape == (3, 1, 28, 28)
    assert len(unet.calls) == 2 * T  # CFG: conditional and unconditional each step
    assert len(frames) == 7 and torch.equal(frames[-1], out)


def test_ddpm_wrapper() -> None:
    from solution.unet import ClassConditionalUNet

    model = DDPM(ClassConditionalUNet(1, 10, 4), num_ts=20)
    x, c = torch.rand(8, 1, 28, 28), torch.eye(10)[:8]
    loss = model(x, c)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    model.train()
    samples = model.sample((28, 28), seed=1, c=c[:3])
    assert samples.shape == (3, 1, 28, 28) and model.training  # sampling restores the mode
    torch.testing.assert_close(model.sample((28, 28), seed=1, c=c[:3]), samples)
    assert "betas" not in model.state_dict()  # derived buffers are not saved
