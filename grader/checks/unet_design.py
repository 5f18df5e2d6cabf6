"""The handout's UNet design as a function of its weights, to judge a student's module by what it
computes rather than by what its process says about itself.

The grader gives the module weights of its own choosing (random, by the parameter names the module
reported), runs it on its own inputs, and computes here what the design gives with the same weights.
When the two agree, the layers, their order, the BatchNorm and GELU placement, the skip connections
and the parameters are the design's. The worker's description of the module (which submodule holds
which parameters, in the order of their first call) only says where each weight goes; a false one
makes the outputs disagree.

Legitimate freedom is allowed: the order of the two halves of each skip concatenation, where the
embedding blocks are called, GELU's tanh approximation (a relative tolerance).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

TOL = 2e-2  # relative RMS difference allowed (GELU's tanh approximation differs by ~1e-3 per layer)
NUM_CLASSES = 10

Called = list[tuple[str, list[tuple[str, tuple[int, ...]]]]]


class DesignMismatch(Exception):
    """The module's weights do not fit the design (str: what did not fit, for the report)."""


@dataclass
class Leaf:
    name: str
    tensors: list[torch.Tensor]


def grader_weights(called: Called, seed: int) -> dict[str, torch.Tensor]:
    """Random weights for every parameter the module reported, scaled so activations stay of order
    one: weights ~ N(0, 1 / fan_in), BatchNorm scales ~ 1 + N(0, 0.1^2), biases ~ N(0, 0.1^2)."""
    gen = torch.Generator().manual_seed(seed)
    weights = {}
    for _, params in called:
        for name, shape in params:
            if len(shape) >= 2:
                value = torch.randn(shape, generator=gen) / math.sqrt(math.prod(shape[1:]))
            elif name.endswith("weight"):
                value = 1 + 0.1 * torch.randn(shape, generator=gen)
            else:
                value = 0.1 * torch.randn(shape, generator=gen)
            weights[name] = value
    return weights


def _leaves(called: Called, weights: dict[str, torch.Tensor]) -> tuple[list[Leaf], list[Leaf]]:
    """(convolution path leaves, linear leaves), each in the order of their first call."""
    conv, linear = [], []
    for name, params in called:
        leaf = Leaf(name, [weights[p].double() for p, _ in params if p in weights])
        (linear if leaf.tensors and leaf.tensors[0].dim() == 2 else conv).append(leaf)
    return conv, linear


class _Reader:
    """The next leaf of the module, checked against the design's next layer."""

    def __init__(self, leaves: list[Leaf]) -> None:
        self.leaves: Iterator[Leaf] = iter(leaves)
        self.count = 0

    def take(self, what: str, shapes: list[tuple[int, ...]]) -> list[torch.Tensor]:
        self.count += 1
        leaf = next(self.leaves, None)
        if leaf is None:
            raise DesignMismatch(f"the design's layer #{self.count} ({what}) has no counterpart: the module has "
                                 "fewer layers with parameters")
        got = [tuple(t.shape) for t in leaf.tensors]
        if got == shapes[:1] and "Conv" in what:  # a convolution without a bias (before a BatchNorm it is
            return [*leaf.tensors, torch.zeros(shapes[1], dtype=torch.float64)]  # redundant; the count says so)
        if got != shapes:
            raise DesignMismatch(f"the design's layer #{self.count} is {what} with parameters of shapes {shapes}; "
                                 f"the module's `{leaf.name}` (called at that point) has {got}")
        return leaf.tensors

    def done(self) -> None:
        extra = [leaf.name for leaf in self.leaves]
        if extra:
            raise DesignMismatch(f"the module has layers with parameters beyond the design's: {', '.join(extra)}")


def _bn(r: _Reader, x: torch.Tensor) -> torch.Tensor:
    c = x.shape[1]
    w, b = r.take(f"BatchNorm2d({c})", [(c,), (c,)])
    return F.batch_norm(x, None, None, w, b, training=True, eps=1e-5)


def _op(r: _Reader, x: torch.Tensor, cout: int, kind: str) -> torch.Tensor:
    """Conv / DownConv / UpConv / Unflatten: the layer, BatchNorm, GELU."""
    cin = x.shape[1]
    if kind in ("Conv", "DownConv"):
        w, b = r.take(f"{kind} Conv2d({cin}, {cout}, 3)", [(cout, cin, 3, 3), (cout,)])
        y = F.conv2d(x, w, b, stride=1 if kind == "Conv" else 2, padding=1)
    else:
        k, stride, pad = (4, 2, 1) if kind == "UpConv" else (7, 7, 0)
        w, b = r.take(f"{kind} ConvTranspose2d({cin}, {cout}, {k})", [(cin, cout, k, k), (cout,)])
        y = F.conv_transpose2d(x, w, b, stride=stride, padding=pad)
    return F.gelu(_bn(r, y))


def _block(r: _Reader, x: torch.Tensor, cout: int, first: str) -> torch.Tensor:
    """ConvBlock (first = "Conv": two Convs); DownBlock ("DownConv"), UpBlock ("UpConv"): that op,
    then a ConvBlock."""
    if first == "Conv":
        return _op(r, _op(r, x, cout, "Conv"), cout, "Conv")
    return _block(r, _op(r, x, cout, first), cout, "Conv")


def _flatten(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(F.avg_pool2d(x, 7))


def _fc(leaves: list[Leaf], inputs: torch.Tensor) -> torch.Tensor:
    (w1, b1), (w2, b2) = (leaf.tensors for leaf in leaves)
    return F.linear(F.gelu(F.linear(inputs, w1, b1)), w2, b2)


def _fc_blocks(linear: list[Leaf], d: int) -> dict[str, list[Leaf]]:
    """The embedding blocks by their shapes: Linear(1 or K, width) then Linear(width, width)."""
    blocks: dict[str, list[Leaf]] = {}
    for first, second in zip(linear[::2], linear[1::2], strict=False):
        if len(first.tensors) != 2 or len(second.tensors) != 2:
            raise DesignMismatch(f"the embedding layer `{first.name}` or `{second.name}` is not a Linear with a bias")
        out, cin = first.tensors[0].shape
        name = {(2 * d, 1): "fc1_t", (d, 1): "fc2_t", (2 * d, NUM_CLASSES): "fc1_c", (d, NUM_CLASSES): "fc2_c"}.get(
            (out, cin))
        if name is None or tuple(second.tensors[0].shape) != (out, out) or name in blocks:
            raise DesignMismatch(f"the embedding layers `{first.name}`, `{second.name}` are not an FCBlock of the "
                                 f"design (Linear(1 or {NUM_CLASSES}, D or 2D), GELU, Linear(width, width))")
        blocks[name] = [first, second]
    if len(linear) % 2:
        raise DesignMismatch(f"an odd number of Linear layers ({len(linear)}): each FCBlock has two")
    return blocks


def unet(called: Called, weights: dict[str, torch.Tensor], kind: str, x: torch.Tensor, d: int,
         t: torch.Tensor | None = None, c: torch.Tensor | None = None, modulation: str = "add",
         skip_first: tuple[bool, bool, bool] = (False, False, False)) -> torch.Tensor:
    """The design's output for `kind` (UnconditionalUNet, TimeConditionalUNet, ClassConditionalUNet)
    with the module's weights; skip_first[i]: the i-th concatenation puts the skip before h."""
    conv, linear = _leaves(called, weights)
    r = _Reader(conv)
    x = x.double()
    mod1: Callable[[torch.Tensor], torch.Tensor] = lambda h: h  # noqa: E731
    mod2: Callable[[torch.Tensor], torch.Tensor] = lambda h: h  # noqa: E731
    expected_fc = {"UnconditionalUNet": set(), "TimeConditionalUNet": {"fc1_t", "fc2_t"},
                   "ClassConditionalUNet": {"fc1_t", "fc2_t", "fc1_c", "fc2_c"}}[kind]
    fc = _fc_blocks(linear, d)
    if set(fc) != expected_fc:
        raise DesignMismatch(f"{kind} has embedding blocks {sorted(fc) or 'none'}; the design has "
                             f"{sorted(expected_fc) or 'none'}")
    if kind != "UnconditionalUNet":
        tc = t.double().reshape(-1, 1)
        t1, t2 = (_fc(fc[n], tc)[:, :, None, None] for n in ("fc1_t", "fc2_t"))
        if kind == "ClassConditionalUNet":
            c1, c2 = (_fc(fc[n], c.double())[:, :, None, None] for n in ("fc1_c", "fc2_c"))
            mod1, mod2 = (lambda h: c1 * h + t1), (lambda h: c2 * h + t2)
        elif modulation == "mul":
            mod1, mod2 = (lambda h: h * t1), (lambda h: h * t2)
        else:
            mod1, mod2 = (lambda h: h + t1), (lambda h: h + t2)

    def cat(h: torch.Tensor, skip: torch.Tensor, i: int) -> torch.Tensor:
        return torch.cat([skip, h] if skip_first[i] else [h, skip], dim=1)

    e0 = _block(r, x, d, "Conv")
    e1 = _block(r, e0, d, "DownConv")
    e2 = _block(r, e1, 2 * d, "DownConv")
    h = mod1(_op(r, _flatten(e2), 2 * d, "Unflatten"))
    h = mod2(_block(r, cat(h, e2, 0), d, "UpConv"))
    h = _block(r, cat(h, e1, 1), d, "UpConv")
    h = _block(r, cat(h, e0, 2), d, "Conv")
    w, b = r.take(f"the output Conv2d({d}, {x.shape[1]}, 3)", [(x.shape[1], d, 3, 3), (x.shape[1],)])
    r.done()
    return F.conv2d(h, w, b, padding=1)


def op(called: Called, weights: dict[str, torch.Tensor], name: str, args: tuple, x: torch.Tensor) -> torch.Tensor:
    """The design's output of one op (Conv, DownConv, UpConv, Unflatten, Flatten, FCBlock)."""
    conv, linear = _leaves(called, weights)
    x = x.double()
    if name == "Flatten":
        if conv or linear:
            raise DesignMismatch("Flatten has layers with parameters; the design's is AvgPool2d(7) -> GELU")
        return _flatten(x)
    if name == "FCBlock":
        if conv or len(linear) != 2:
            raise DesignMismatch(f"FCBlock{args} has {len(linear)} Linear layers (and {len(conv)} others); the "
                                 "design's is Linear -> GELU -> Linear")
        cin, cout = args
        for leaf, shapes in zip(linear, [[(cout, cin), (cout,)], [(cout, cout), (cout,)]], strict=True):
            if [tuple(t.shape) for t in leaf.tensors] != shapes:
                raise DesignMismatch(f"FCBlock{args}'s `{leaf.name}` has parameters of shapes "
                                     f"{[tuple(t.shape) for t in leaf.tensors]}, expected {shapes}")
        return _fc(linear, x)
    r = _Reader(conv + linear)
    out = _op(r, x, args[-1], name)
    r.done()
    return out


def agrees(got: object, expected: torch.Tensor) -> tuple[bool, float]:
    """(within TOL, the relative RMS difference)."""
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
        return False, math.inf
    diff = float(((got.double() - expected) ** 2).mean().sqrt() / (expected.pow(2).mean().sqrt() + 1e-12))
    return diff <= TOL, diff


def unet_agrees(called: Called, weights: dict[str, torch.Tensor], got: object, kind: str, x: torch.Tensor, d: int,
                **conditioning: object) -> float:
    """The smallest relative difference over the skip-concatenation orders; raises DesignMismatch."""
    best = math.inf
    for order in itertools.product((False, True), repeat=3):
        ok, diff = agrees(got, unet(called, weights, kind, x, d, skip_first=order, **conditioning))
        best = min(best, diff)
        if ok:
            return diff
    return best
