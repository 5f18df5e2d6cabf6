"""Flow matching against closed forms: interpolation, loss, and the Euler sampler on velocity
fields whose Euler solution is known exactly."""

from __future__ import annotations

import pytest
import torch

from solution.flow import FlowMatching, fm_forward, fm_interpolate, fm_sample

from .mocks import RecordingUNet


def start_noise(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def test_interpolate_scalar_and_per_sample() -> None:
    x0, x1 = torch.randn(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(fm_interpolate(x0, x1, 0.25), 0.75 * x0 + 0.25 * x1)
    t = torch.tensor([0.0, 0.5, 1.0])
    out = fm_interpolate(x0, x1, t)
    torch.testing.assert_close(out[0], x0[0])
    torch.testing.assert_close(out[1], 0.5 * (x0[1] + x1[1]))
    torch.testing.assert_close(out[2], x1[2])
    torch.testing.assert_close(fm_interpolate(x0, x1, t[:, None]), out)


def test_fm_forward_target_and_inputs() -> None:
    unet = RecordingUNet(lambda x, c, t: 0.5 * x)
    x1, noise, t = torch.rand(4, 1, 28, 28), torch.randn(4, 1, 28, 28), torch.tensor([0.0, 0.3, 0.7, 1.0])
    loss = fm_forward(unet, x1, 50, noise=noise, t=t)
    x_t = (1 - t.view(-1, 1, 1, 1)) * noise + t.view(-1, 1, 1, 1) * x1
    torch.testing.assert_close(loss, ((0.5 * x_t - (x1 - noise)) ** 2).mean())
    torch.testing.assert_close(unet.calls[0]["x"], x_t)
    torch.testing.assert_close(unet.calls[0]["t"], t)


def test_fm_forward_draws_uniform_t_and_drops_classes() -> None:
    unet = RecordingUNet()
    n = 6000
    fm_forward(unet, torch.rand(n, 1, 2, 2), 50, c=torch.eye(10)[torch.arange(n) % 10], p_uncond=0.1)
    t, c = unet.calls[0]["t"], unet.calls[0]["c"]
    assert 0 <= t.min() < 0.01 and 0.99 < t.max() <= 1 and abs(t.mean().item() - 0.5) < 0.02
    assert (c.abs().sum(1) == 0).float().mean().item() == pytest.approx(0.1, abs=0.015)


def test_euler_on_linear_field_is_exact() -> None:
    """dx/dt = -x: n Euler steps of 1/n multiply the start by (1 - 1/n)^n."""
    n = 25
    unet = RecordingUNet(lambda x, c, t: -x)
    out = fm_sample(unet, (28, 28), n, seed=5, num_samples=3)
    torch.testing.assert_close(out, start_noise((3, 1, 28, 28), 5) * (1 - 1 / n) ** n)
    assert len(unet.calls) == n
    torch.testing.assert_close(torch.stack([c["t"][0] for c in unet.calls]), torch.arange(n) / n)


def test_euler_on_time_field() -> None:
    """dx/dt = t: Euler sums i/n * 1/n for i < n, i.e. (n - 1) / (2n), not the exact 1/2."""
    n = 10
    out = fm_sample(RecordingUNet(lambda x, c, t: t.view(-1, 1, 1, 1).expand_as(x)), (28, 28), n, seed=1, num_samples=2)
    torch.testing.assert_close(out, start_noise((2, 1, 28, 28), 1) + (n - 1) / (2 * n))


def test_guided_euler_and_seed() -> None:
    unet = RecordingUNet(
        lambda x, c, t: torch.where(c.abs().sum(1).view(-1, 1, 1, 1) > 0, 2.0, -1.0).expand_as(x).clone()
    )
    c = torch.eye(10)[:2]
    out = fm_sample(unet, (28, 28), 8, seed=2, c=c, guidance_scale=5.0)
    torch.testing.assert_close(out, start_noise((2, 1, 28, 28), 2) + 14.0)  # -1 + 5 (2 + 1), integrated over [0, 1]
    assert len(unet.calls) == 16
    torch.testing.assert_close(fm_sample(unet, (28, 28), 8, seed=2, c=c, guidance_scale=5.0), out)


def test_flow_matching_wrapper() -> None:
    from solution.unet import TimeConditionalUNet

    model = FlowMatching(TimeConditionalUNet(1, 10, 4, modulation="mul"), num_ts=5)
    loss = model(torch.rand(8, 1, 28, 28))
    assert loss.dim() == 0 and torch.isfinite(loss)
    out, frames = model.sample((28, 28), seed=0, num_samples=2, frame_every=2)
    assert out.shape == (2, 1, 28, 28) and len(frames) == 3 and model.training
