"""Parameter counts of the handout's design, counted by hand from its diagram.

Conv2d / ConvTranspose2d: in * out * k^2 weights + out biases; BatchNorm2d: 2 per channel;
Linear: in * out + out. GELU, AvgPool2d: none.
"""

from __future__ import annotations


def conv(i: int, o: int, k: int) -> int:
    return i * o * k * k + o


def op(i: int, o: int, k: int = 3) -> int:
    """Conv / DownConv (k = 3) and UpConv (k = 4): the layer, then BatchNorm2d."""
    return conv(i, o, k) + 2 * o


def conv_block(i: int, o: int) -> int:
    return op(i, o) + op(o, o)


def down_block(i: int, o: int) -> int:
    return op(i, o) + conv_block(o, o)


def up_block(i: int, o: int) -> int:
    return op(i, o, 4) + conv_block(o, o)


def unflatten(c: int) -> int:
    return op(c, c, 7)


def fc_block(i: int, o: int) -> int:
    return i * o + o + o * o + o


def unconditional_blocks(c: int, d: int) -> dict[str, int]:
    """The blocks of the UNet in the diagram's order, with their parameter counts."""
    return {
        "ConvBlock(C, D)": conv_block(c, d),
        "DownBlock(D, D)": down_block(d, d),
        "DownBlock(D, 2D)": down_block(d, 2 * d),
        "Flatten": 0,
        "Unflatten(2D)": unflatten(2 * d),
        "UpBlock(4D, D)": up_block(4 * d, d),
        "UpBlock(2D, D)": up_block(2 * d, d),
        "ConvBlock(2D, D)": conv_block(2 * d, d),
        "Conv2d(D, C)": conv(d, c, 3),
    }


def time_blocks(c: int, d: int) -> dict[str, int]:
    return {**unconditional_blocks(c, d), "FCBlock(1, 2D)": fc_block(1, 2 * d), "FCBlock(1, D)": fc_block(1, d)}


def class_blocks(c: int, d: int, classes: int = 10) -> dict[str, int]:
    return {**time_blocks(c, d), "FCBlock(K, 2D)": fc_block(classes, 2 * d), "FCBlock(K, D)": fc_block(classes, d)}


BLOCKS = {
    "UnconditionalUNet": unconditional_blocks, "TimeConditionalUNet": time_blocks, "ClassConditionalUNet": class_blocks,
}


def total(name: str, c: int, d: int) -> int:
    return sum(BLOCKS[name](c, d).values())


def layer_counts(name: str) -> dict[str, int]:
    """BatchNorm2d and GELU layers of each UNet: one per op (ConvBlock 2, Down/UpBlock 3,
    Unflatten 1), a GELU in Flatten, and one GELU per FCBlock."""
    bn = 2 + 3 + 3 + 1 + 3 + 3 + 2
    fc = {"UnconditionalUNet": 0, "TimeConditionalUNet": 2, "ClassConditionalUNet": 4}[name]
    return {"BatchNorm2d": bn, "GELU": bn + 1 + fc}
