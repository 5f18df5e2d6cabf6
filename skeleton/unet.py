# Generated from the reference by tools/make_skeleton.py: do not edit by hand.
"""The UNet denoisers of the assignment (Part 1.1, 2.1 and 2.4).

Every op is a layer followed by BatchNorm and GELU, except where noted. Shapes are for
MNIST (28x28); D is `num_hiddens`.

    x --ConvBlock--> e0 (D, 28) --DownBlock--> e1 (D, 14) --DownBlock--> e2 (2D, 7)
      --Flatten--> (2D, 1) --Unflatten--> h (2D, 7)
      cat(h, e2)  --UpBlock--> (D, 14)
      cat(., e1)  --UpBlock--> (D, 28)
      cat(., e0)  --ConvBlock--> (D, 28) --Conv2d 3/1/1--> out (in_channels, 28)

The conditional UNets modulate `h` (after Unflatten) and the first UpBlock's output.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Modulation = Callable[[torch.Tensor], torch.Tensor]


# The ops are nn.Sequential subclasses: their layers, in order, are the whole definition.


class Conv(nn.Sequential):
    """Conv2d(3, 1, 1) -> BN -> GELU: changes channels, keeps the resolution."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        raise NotImplementedError(
            'TODO(Conv.__init__): call super().__init__ with Conv2d(kernel 3, stride 1, padding 1), '
            'BatchNorm2d, GELU. Hint: the output keeps H and W.'
        )


class DownConv(nn.Sequential):
    """Conv2d(3, 2, 1) -> BN -> GELU: halves the resolution."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        raise NotImplementedError(
            'TODO(DownConv.__init__): call super().__init__ with Conv2d(kernel 3, stride 2, padding '
            '1), BatchNorm2d, GELU. Hint: 28x28 becomes 14x14.'
        )


class UpConv(nn.Sequential):
    """ConvTranspose2d(4, 2, 1) -> BN -> GELU: doubles the resolution."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        raise NotImplementedError(
            'TODO(UpConv.__init__): call super().__init__ with ConvTranspose2d(kernel 4, stride 2, '
            'padding 1), BatchNorm2d, GELU. Hint: 7x7 becomes 14x14.'
        )


class Flatten(nn.Sequential):
    """AvgPool2d(7) -> GELU: a 7x7 map becomes 1x1 (no BatchNorm here)."""

    def __init__(self) -> None:
        raise NotImplementedError(
            'TODO(Flatten.__init__): call super().__init__ with AvgPool2d(kernel 7), GELU. Hint: '
            'there is no BatchNorm in Flatten.'
        )


class Unflatten(nn.Sequential):
    """ConvTranspose2d(7, 7, 0) -> BN -> GELU: a 1x1 map becomes 7x7."""

    def __init__(self, in_channels: int) -> None:
        raise NotImplementedError(
            'TODO(Unflatten.__init__): call super().__init__ with ConvTranspose2d(in_channels, '
            'in_channels, kernel 7, stride 7, padding 0), BatchNorm2d, GELU.'
        )


class ConvBlock(nn.Sequential):
    """Conv(in, out) -> Conv(out, out): same shape as Conv, more parameters."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        raise NotImplementedError(
            'TODO(ConvBlock.__init__): call super().__init__ with Conv(in_channels, out_channels), '
            'Conv(out_channels, out_channels).'
        )


class DownBlock(nn.Sequential):
    """DownConv(in, out) -> ConvBlock(out, out)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        raise NotImplementedError(
            'TODO(DownBlock.__init__): call super().__init__ with DownConv(in_channels, '
            'out_channels), ConvBlock(out_channels, out_channels).'
        )


class UpBlock(nn.Sequential):
    """UpConv(in, out) -> ConvBlock(out, out)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        raise NotImplementedError(
            'TODO(UpBlock.__init__): call super().__init__ with UpConv(in_channels, out_channels), '
            'ConvBlock(out_channels, out_channels).'
        )


class FCBlock(nn.Sequential):
    """Linear(in, out) -> GELU -> Linear(out, out): embeds a conditioning vector (N, in) -> (N, out)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        raise NotImplementedError(
            'TODO(FCBlock.__init__): call super().__init__ with Linear(in_channels, out_channels), '
            'GELU, Linear(out_channels, out_channels).'
        )


class UnconditionalUNet(nn.Module):
    """The Part 1 denoiser: maps a (N, C, 28, 28) image to one of the same shape."""

    def __init__(self, in_channels: int, num_hiddens: int) -> None:
        super().__init__()
        raise NotImplementedError(
            'TODO(UnconditionalUNet.__init__): create the blocks of the diagram: ConvBlock, two '
            'DownBlocks, Flatten, Unflatten, two UpBlocks, ConvBlock and a final nn.Conv2d(D, '
            'in_channels, 3, 1, 1). Hint: count the channels after each concatenation: they double.'
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.unet_pass(x)

    def unet_pass(
        self,
        x: torch.Tensor,
        modulate1: Modulation | None = None,
        modulate2: Modulation | None = None,
    ) -> torch.Tensor:
        """One pass through the UNet. The conditional UNets reuse it: `modulate1` is applied
        to the Unflatten output, `modulate2` to the first UpBlock's output."""
        raise NotImplementedError(
            'TODO(UnconditionalUNet.unet_pass): run the encoder keeping e0, e1, e2 for the skip '
            'concatenations (torch.cat on dim 1), then the decoder; apply modulate1 / modulate2 (when'
            ' given) at the two places above.'
        )


def _as_column(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Normalised time as a float (N, 1) column, whether it came as (N,), (N, 1) or a scalar."""
    t = torch.as_tensor(t, device=like.device, dtype=like.dtype)
    if t.dim() == 0:
        t = t.expand(like.shape[0])
    return t.reshape(-1, 1)


class TimeConditionalUNet(UnconditionalUNet):
    """eps_theta(x_t, t): the Part 1 UNet with t / T injected by two FCBlocks.

    `modulation="add"` (the DDPM part's form, the default) adds the embeddings; `"mul"` (the
    flow-matching part's form) multiplies by them.
    """

    def __init__(self, in_channels: int, num_classes: int, num_hiddens: int, modulation: str = "add") -> None:
        super().__init__(in_channels, num_hiddens)
        if modulation not in ("add", "mul"):
            raise ValueError(f"modulation must be 'add' or 'mul', got {modulation!r}")
        self.modulation = modulation
        self.num_classes = num_classes  # unused; both conditional UNets share one signature
        raise NotImplementedError(
            'TODO(TimeConditionalUNet.__init__): add fc1_t = FCBlock(1, 2D) and fc2_t = FCBlock(1, '
            'D).'
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x: (N, C, H, W); t: normalised time t / T in [0, 1], shape (N,) or (N, 1)."""
        t = _as_column(t, x)
        raise NotImplementedError(
            'TODO(TimeConditionalUNet.forward): embed t with fc1_t and fc2_t, reshape to (N, F, 1, '
            '1), and call self.unet_pass with modulations that add them (multiply when '
            'self.modulation == "mul").'
        )


class ClassConditionalUNet(UnconditionalUNet):
    """eps_theta(x_t, t, c): time and one-hot class conditioning, `c * h + t` at two places."""

    def __init__(self, in_channels: int, num_classes: int, num_hiddens: int) -> None:
        super().__init__(in_channels, num_hiddens)
        self.num_classes = num_classes
        raise NotImplementedError(
            'TODO(ClassConditionalUNet.__init__): add fc1_t = FCBlock(1, 2D), fc1_c = '
            'FCBlock(num_classes, 2D), fc2_t = FCBlock(1, D), fc2_c = FCBlock(num_classes, D).'
        )

    def forward(
        self,
        x: torch.Tensor,
        c: torch.Tensor,
        t: torch.Tensor,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x: (N, C, H, W); c: one-hot (N, num_classes), all zeros = unconditional;
        t: t / T, (N,) or (N, 1); mask: optional (N,) of 0/1, 0 drops that sample's class."""
        t = _as_column(t, x)
        c = c.to(x.dtype)
        if mask is not None:
            c = c * mask.to(x.dtype).reshape(-1, 1)
        raise NotImplementedError(
            'TODO(ClassConditionalUNet.forward): embed t and c with the four FCBlocks (reshape to (N,'
            ' F, 1, 1)) and call self.unet_pass with modulations h -> c1 * h + t1 and h -> c2 * h + '
            't2.'
        )
