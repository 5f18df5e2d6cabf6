"""Shapes, parameter counts and structure of the UNet ops, blocks and networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from solution import unet as U


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def conv(i: int, o: int, k: int) -> int:
    return i * o * k * k + o  # weights + bias


BN = 2  # BatchNorm2d: weight and bias per channel


@pytest.mark.parametrize("n", [1, 3, 8])
@pytest.mark.parametrize("cin,cout", [(1, 4), (6, 6), (8, 3)])
def test_op_shapes(n: int, cin: int, cout: int) -> None:
    x = torch.randn(n, cin, 28, 28)
    assert U.Conv(cin, cout)(x).shape == (n, cout, 28, 28)
    assert U.ConvBlock(cin, cout)(x).shape == (n, cout, 28, 28)
    assert U.DownConv(cin, cout)(x).shape == (n, cout, 14, 14)
    assert U.DownBlock(cin, cout)(x).shape == (n, cout, 14, 14)
    h = torch.randn(n, cin, 7, 7)
    assert U.UpConv(cin, cout)(h).shape == (n, cout, 14, 14)
    assert U.UpBlock(cin, cout)(h).shape == (n, cout, 14, 14)
    assert U.Flatten()(h).shape == (n, cin, 1, 1)
    assert U.Unflatten(cin)(torch.randn(n, cin, 1, 1)).shape == (n, cin, 7, 7)
    assert U.FCBlock(cin, cout)(torch.randn(n, cin)).shape == (n, cout)


def test_op_layers_follow_the_handout() -> None:
    conv_ = U.Conv(2, 3)
    assert [type(m) for m in conv_] == [nn.Conv2d, nn.BatchNorm2d, nn.GELU]
    assert (conv_[0].kernel_size, conv_[0].stride, conv_[0].padding) == ((3, 3), (1, 1), (1, 1))
    down = U.DownConv(2, 3)[0]
    assert (down.kernel_size, down.stride, down.padding) == ((3, 3), (2, 2), (1, 1))
    up = U.UpConv(2, 3)
    assert [type(m) for m in up] == [nn.ConvTranspose2d, nn.BatchNorm2d, nn.GELU]
    assert (up[0].kernel_size, up[0].stride, up[0].padding) == ((4, 4), (2, 2), (1, 1))
    assert [type(m) for m in U.Flatten()] == [nn.AvgPool2d, nn.GELU]
    unflat = U.Unflatten(5)
    assert [type(m) for m in unflat] == [nn.ConvTranspose2d, nn.BatchNorm2d, nn.GELU]
    assert (unflat[0].kernel_size, unflat[0].stride, unflat[0].padding) == ((7, 7), (7, 7), (0, 0))
    assert [type(m) for m in U.FCBlock(1, 4)] == [nn.Linear, nn.GELU, nn.Linear]


def unconditional_params(c: int, d: int) -> int:
    """Hand count from the handout's diagram (BN after every Conv/ConvTranspose but the last)."""
    conv_op = lambda i, o: conv(i, o, 3) + BN * o
    block = lambda i, o: conv_op(i, o) + conv_op(o, o)
    down = lambda i, o: conv(i, o, 3) + BN * o + block(o, o)
    up = lambda i, o: conv(i, o, 4) + BN * o + block(o, o)
    unflatten = conv(2 * d, 2 * d, 7) + BN * 2 * d
    return (
        block(c, d)
        + down(d, d)
        + down(d, 2 * d)
        + unflatten
        + up(4 * d, d)
        + up(2 * d, d)
        + block(2 * d, d)
        + conv(d, c, 3)
    )


def fc(i: int, o: int) -> int:
    return i * o + o + o * o + o


@pytest.mark.parametrize("d", [8, 64, 128])
def test_parameter_counts_match_the_design(d: int) -> None:
    base = unconditional_params(1, d)
    assert n_params(U.UnconditionalUNet(1, d)) == base
    assert n_params(U.TimeConditionalUNet(1, 10, d)) == base + fc(1, 2 * d) + fc(1, d)
    assert n_params(U.ClassConditionalUNet(1, 10, d)) == base + fc(1, 2 * d) + fc(1, d) + fc(10, 2 * d) + fc(10, d)


def test_handout_sizes() -> None:
    # The handout's widths: D = 128 for Part 1, D = 64 for the conditional UNets.
    assert n_params(U.UnconditionalUNet(1, 128)) == 7_891_073
    assert n_params(U.TimeConditionalUNet(1, 10, 64)) == 1_996_417
    assert n_params(U.ClassConditionalUNet(1, 10, 64)) == 2_019_201


@pytest.mark.parametrize("n", [1, 4])
def test_unets_keep_the_input_shape(n: int) -> None:
    x = torch.randn(n, 1, 28, 28)
    t = torch.rand(n)
    c = torch.eye(10)[torch.arange(n) % 10]
    assert U.UnconditionalUNet(1, 8)(x).shape == x.shape
    assert U.TimeConditionalUNet(1, 10, 8)(x, t).shape == x.shape
    assert U.TimeConditionalUNet(1, 10, 8)(x, t[:, None]).shape == x.shape
    assert U.ClassConditionalUNet(1, 10, 8)(x, c, t).shape == x.shape
    assert U.UnconditionalUNet(3, 8)(torch.randn(n, 3, 28, 28)).shape == (n, 3, 28, 28)


def test_time_shapes_n_and_n1_agree() -> None:
    m = U.ClassConditionalUNet(1, 10, 8).eval()
    x, c, t = torch.randn(3, 1, 28, 28), torch.eye(10)[:3], torch.rand(3)
    torch.testing.assert_close(m(x, c, t), m(x, c, t[:, None]))


def test_time_conditioning_changes_the_output() -> None:
    m = U.TimeConditionalUNet(1, 10, 8).train()
    x = torch.randn(2, 1, 28, 28)
    assert (m(x, torch.zeros(2)) - m(x, torch.ones(2))).abs().max() > 1e-3


def test_mask_zero_equals_zero_class() -> None:
    # Train mode: at initialisation, eval-mode BatchNorm leaves the class signal ~1e-6.
    m = U.ClassConditionalUNet(1, 10, 8).train()
    x, c, t = torch.randn(4, 1, 28, 28), torch.eye(10)[:4], torch.rand(4)
    mask = torch.tensor([1, 0, 1, 0])
    expected = m(x, c * mask[:, None], t)
    torch.testing.assert_close(m(x, c, t, mask=mask), expected)
    assert (expected[0] - m(x, torch.zeros_like(c), t)[0]).abs().max() > 1e-3


def test_modulation_add_vs_mul() -> None:
    """The time UNet adds (000) or multiplies (001) the embedding; check on the hook points."""
    torch.manual_seed(0)
    add = U.TimeConditionalUNet(1, 10, 4).eval()
    mul = U.TimeConditionalUNet(1, 10, 4, modulation="mul").eval()
    mul.load_state_dict(add.state_dict())
    x, t = torch.randn(2, 1, 28, 28), torch.rand(2)
    seen: dict[str, torch.Tensor] = {}
    add.up1.register_forward_hook(lambda m, i, o: seen.__setitem__("add_in", i[0]))
    mul.up1.register_forward_hook(lambda m, i, o: seen.__setitem__("mul_in", i[0]))
    add(x, t)
    mul(x, t)
    h = add.unflatten(add.flatten(add.down2(add.down1(add.in_block(x)))))
    t1 = add.fc1_t(t[:, None])[:, :, None, None]
    d2 = h.shape[1]
    torch.testing.assert_close(seen["add_in"][:, :d2], h + t1)
    torch.testing.assert_close(seen["mul_in"][:, :d2], h * t1)
    with pytest.raises(ValueError):
        U.TimeConditionalUNet(1, 10, 4, modulation="concat")
