"""Self-check of part 1. UNet: shapes, layers, parameters.

Written from the course's test declarations, beside the grader's own tests; edits here are
overwritten by the next release.
"""

import pytest
import torch


@pytest.mark.points(2)
@pytest.mark.covers("test_conv_ops_shapes")
def test_conv_ops_change_resolution_as_designed(hw):
    x = torch.rand(2, 3, 28, 28)
    assert hw.unet.Conv(3, 5)(x).shape == (2, 5, 28, 28), "Conv must keep 28x28"
    assert hw.unet.DownConv(3, 5)(x).shape == (2, 5, 14, 14), "DownConv must halve 28x28 to 14x14"
    assert hw.unet.UpConv(3, 5)(torch.rand(2, 3, 7, 7)).shape == (2, 5, 14, 14), "UpConv must double 7x7 to 14x14"


@pytest.mark.points(2)
@pytest.mark.covers("test_flatten_fc_shapes")
def test_flatten_unflatten_fcblock_output_shapes(hw):
    h = torch.rand(2, 6, 7, 7)
    assert hw.unet.Flatten()(h).shape == (2, 6, 1, 1), "Flatten must turn 7x7 into 1x1"
    assert hw.unet.Unflatten(6)(torch.rand(2, 6, 1, 1)).shape == (2, 6, 7, 7), "Unflatten must turn 1x1 into 7x7"
    assert hw.unet.FCBlock(10, 4)(torch.rand(2, 10)).shape == (2, 4), "FCBlock(10, 4) maps (N, 10) to (N, 4)"


@pytest.mark.points(2)
@pytest.mark.covers("test_blocks_shapes")
def test_conv_down_up_blocks_output_shapes(hw):
    assert hw.unet.ConvBlock(3, 5)(torch.rand(2, 3, 28, 28)).shape == (2, 5, 28, 28)
    assert hw.unet.DownBlock(3, 5)(torch.rand(2, 3, 28, 28)).shape == (2, 5, 14, 14)
    assert hw.unet.UpBlock(3, 5)(torch.rand(2, 3, 7, 7)).shape == (2, 5, 14, 14)


@pytest.mark.points(2)
@pytest.mark.covers("test_unconditional_unet_shape")
def test_unconditional_unet_keeps_image_shape(hw, kit):
    out = hw.unet.UnconditionalUNet(1, kit.NUM_HIDDENS)(kit.images(3))
    assert out.shape == (3, 1, 28, 28), f"expected (3, 1, 28, 28), got {tuple(out.shape)}"
    assert out.dtype == torch.float32 and torch.isfinite(out).all()


@pytest.mark.points(2)
@pytest.mark.covers("test_time_unet_shape")
def test_time_unet_takes_t_as_vector_or_column(hw, kit):
    unet = hw.unet.TimeConditionalUNet(1, 10, kit.NUM_HIDDENS).eval()
    x, t = kit.images(3), torch.tensor([0.0, 0.5, 1.0])
    out = unet(x, t)
    assert out.shape == (3, 1, 28, 28), f"expected (3, 1, 28, 28), got {tuple(out.shape)}"
    assert torch.allclose(unet(x, t[:, None]), out), "t of shape (N, 1) must give the same output as t of shape (N,)"


@pytest.mark.points(2)
@pytest.mark.covers("test_class_unet_shape")
def test_class_unet_shapes_with_and_without_mask(hw, kit):
    unet = hw.unet.ClassConditionalUNet(1, 10, kit.NUM_HIDDENS).eval()
    x, c, t = kit.images(3), kit.one_hot([1, 4, 7]), torch.rand(3)
    assert unet(x, c, t).shape == (3, 1, 28, 28)
    assert unet(x, c, t, mask=torch.tensor([1.0, 0.0, 1.0])).shape == (3, 1, 28, 28)
    assert unet(x, torch.zeros_like(c), t[:, None]).shape == (3, 1, 28, 28), "c = 0 (unconditional) must work"
