"""1. The UNet: every op, block and UNet for several batch sizes and channel counts; the
layers of the ops; the handout's parameter counts; how conditioning enters."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch

from grader.checks import inputs, unet_counts, unet_design
from grader.checks.expect import Mismatch, expect_close, expect_tensor, expect_true
from grader.plugin import graded, self_check
from grader.sandbox.student import ModuleInfo, Student


def _expect_shape(student: Student, name: str, args: tuple, x: torch.Tensor, shape: tuple) -> None:
    info = student.module(f"unet.{name}", *args).run([(x,)])
    expect_tensor(info.outputs[0], f"{name}{args} on an input of shape {tuple(x.shape)}", shape)


@graded("Conv, DownConv, UpConv: output shapes", points=2,
        hint="Conv keeps 28x28 (kernel 3, stride 1, padding 1), DownConv halves it (stride 2), UpConv doubles it "
             "(ConvTranspose2d kernel 4, stride 2, padding 1).")
def test_conv_ops_shapes(student: Student) -> None:
    for n, cin, cout in [(1, 1, 4), (3, 6, 3)]:
        _expect_shape(student, "Conv", (cin, cout), inputs.images(n, channels=cin), (n, cout, 28, 28))
        _expect_shape(student, "DownConv", (cin, cout), inputs.images(n, channels=cin), (n, cout, 14, 14))
        _expect_shape(student, "UpConv", (cin, cout), inputs.images(n, channels=cin, size=7), (n, cout, 14, 14))


@self_check("test_conv_ops_shapes", points=2)
def public_conv_ops_change_resolution_as_designed(hw):
    x = torch.rand(2, 3, 28, 28)
    assert hw.unet.Conv(3, 5)(x).shape == (2, 5, 28, 28), "Conv must keep 28x28"
    assert hw.unet.DownConv(3, 5)(x).shape == (2, 5, 14, 14), "DownConv must halve 28x28 to 14x14"
    assert hw.unet.UpConv(3, 5)(torch.rand(2, 3, 7, 7)).shape == (2, 5, 14, 14), "UpConv must double 7x7 to 14x14"


@graded("Flatten, Unflatten, FCBlock: output shapes", points=2,
        hint="Flatten is AvgPool2d(7): 7x7 -> 1x1; Unflatten is ConvTranspose2d(kernel 7, stride 7): 1x1 -> 7x7.")
def test_flatten_fc_shapes(student: Student) -> None:
    for n, c in [(1, 4), (3, 6)]:
        _expect_shape(student, "Flatten", (), inputs.images(n, channels=c, size=7), (n, c, 1, 1))
        _expect_shape(student, "Unflatten", (c,), inputs.images(n, channels=c, size=1), (n, c, 7, 7))
        _expect_shape(student, "FCBlock", (c, 5), inputs.features(n, c), (n, 5))


@self_check("test_flatten_fc_shapes", points=2)
def public_flatten_unflatten_fcblock_output_shapes(hw):
    h = torch.rand(2, 6, 7, 7)
    assert hw.unet.Flatten()(h).shape == (2, 6, 1, 1), "Flatten must turn 7x7 into 1x1"
    assert hw.unet.Unflatten(6)(torch.rand(2, 6, 1, 1)).shape == (2, 6, 7, 7), "Unflatten must turn 1x1 into 7x7"
    assert hw.unet.FCBlock(10, 4)(torch.rand(2, 10)).shape == (2, 4), "FCBlock(10, 4) maps (N, 10) to (N, 4)"


@graded("ConvBlock, DownBlock, UpBlock: output shapes", points=2)
def test_blocks_shapes(student: Student) -> None:
    for n, cin, cout in [(1, 1, 4), (3, 6, 3)]:
        _expect_shape(student, "ConvBlock", (cin, cout), inputs.images(n, channels=cin), (n, cout, 28, 28))
        _expect_shape(student, "DownBlock", (cin, cout), inputs.images(n, channels=cin), (n, cout, 14, 14))
        _expect_shape(student, "UpBlock", (cin, cout), inputs.images(n, channels=cin, size=7), (n, cout, 14, 14))
        _expect_shape(student, "UpBlock", (cin, cout), inputs.images(n, channels=cin, size=14), (n, cout, 28, 28))


@self_check("test_blocks_shapes", points=2)
def public_conv_down_up_blocks_output_shapes(hw):
    assert hw.unet.ConvBlock(3, 5)(torch.rand(2, 3, 28, 28)).shape == (2, 5, 28, 28)
    assert hw.unet.DownBlock(3, 5)(torch.rand(2, 3, 28, 28)).shape == (2, 5, 14, 14)
    assert hw.unet.UpBlock(3, 5)(torch.rand(2, 3, 7, 7)).shape == (2, 5, 14, 14)


OP_LAYERS = {
    "Conv": ((2, 3), ["Conv2d", "BatchNorm2d", "GELU"]),
    "DownConv": ((2, 3), ["Conv2d", "BatchNorm2d", "GELU"]),
    "UpConv": ((2, 3), ["ConvTranspose2d", "BatchNorm2d", "GELU"]),
    "Unflatten": ((4,), ["ConvTranspose2d", "BatchNorm2d", "GELU"]),
    "Flatten": ((), ["AvgPool2d", "GELU"]),
    "FCBlock": ((3, 5), ["Linear", "GELU", "Linear"]),
}


DESIGN_SEED = 1234  # the grader's weights for the design checks


def _design(student: Student, name: str, args: tuple, inputs_: tuple, reference: Callable[..., torch.Tensor],
            what: str, **kwargs: Any) -> ModuleInfo:
    """The module with the grader's random weights (by the names it reports) on the grader's inputs,
    against what the handout's design computes with the same weights (grader/checks/unet_design.py)."""
    spec = student.module(f"unet.{name}", *args, **kwargs)
    info = spec.run([inputs_])
    weights = unet_design.grader_weights(info.called, DESIGN_SEED)
    got = spec.run([inputs_], load=weights).outputs[0]
    try:
        diff = reference(info.called, weights, got)
    except unet_design.DesignMismatch as exc:
        raise Mismatch(what, f"  {exc}", _kinds_hint(info)) from None
    expect_true(diff <= unet_design.TOL, what,
                f"  with the grader's weights, its output differs from the design's by {diff:.3g} (relative RMS; at "
                f"most {unet_design.TOL:g}): a layer, its order, a BatchNorm or GELU, a skip connection or the "
                "conditioning is not the design's", _kinds_hint(info))
    return info


def _kinds_hint(info: ModuleInfo) -> str:
    kinds = [kind for _, kind in info.leaves]
    return f"your module's layers, as it lists them: {', '.join(kinds) or 'none'}"


@graded("Ops have their BatchNorm and GELU layers", points=2,
        hint="Each op is a layer then nn.BatchNorm2d then nn.GELU (Flatten: nn.AvgPool2d then nn.GELU; FCBlock: "
             "Linear, GELU, Linear).")
def test_ops_layers(student: Student) -> None:
    for name, (args, expected) in OP_LAYERS.items():
        size = {"UpConv": 7, "Unflatten": 1, "Flatten": 7}.get(name, 28)
        x = inputs.features(4, args[0]) if name == "FCBlock" else inputs.images(4, channels=args[0] if args else 4,
                                                                               size=size)

        def reference(called: Any, weights: Any, got: Any, name: str = name, args: tuple = args,
                      x: torch.Tensor = x) -> float:
            return unet_design.agrees(got, unet_design.op(called, weights, name, args, x))[1]

        _design(student, name, args, (x,), reference,
                f"{name}{args} with the grader's weights (the design: {' -> '.join(expected)})")


@graded("UnconditionalUNet returns the input's shape", points=1,
        hint="Count the channels after each torch.cat along dim 1: they add up.")
def test_unconditional_unet_shape(student: Student) -> None:
    for n, c in [(1, 1), (4, 1), (2, 3)]:
        _expect_shape(student, "UnconditionalUNet", (c, 8), inputs.images(n, channels=c), (n, c, 28, 28))


@self_check("test_unconditional_unet_shape", points=2)
def public_unconditional_unet_keeps_image_shape(hw, kit):
    out = hw.unet.UnconditionalUNet(1, kit.NUM_HIDDENS)(kit.images(3))
    assert out.shape == (3, 1, 28, 28), f"expected (3, 1, 28, 28), got {tuple(out.shape)}"
    assert out.dtype == torch.float32 and torch.isfinite(out).all()


@graded("TimeConditionalUNet returns the input's shape, t as (N,) or (N, 1)", points=1,
        hint="fc1_t = FCBlock(1, 2D) modulates the Unflatten output (2D channels), fc2_t = FCBlock(1, D) the first "
             "UpBlock's output (D channels); reshape them to (N, F, 1, 1).")
def test_time_unet_shape(student: Student) -> None:
    for n in (1, 4):
        x, t = inputs.images(n), inputs.uniform(n)
        info = student.module("unet.TimeConditionalUNet", 1, 10, 8).run([(x, t), (x, t[:, None])])
        for out, shape in zip(info.outputs, ["(N,)", "(N, 1)"], strict=True):
            expect_tensor(out, f"TimeConditionalUNet(1, 10, 8) on x {tuple(x.shape)}, t of shape {shape}", x.shape)


@self_check("test_time_unet_shape", points=2)
def public_time_unet_takes_t_as_vector_or_column(hw, kit):
    unet = hw.unet.TimeConditionalUNet(1, 10, kit.NUM_HIDDENS).eval()
    x, t = kit.images(3), torch.tensor([0.0, 0.5, 1.0])
    out = unet(x, t)
    assert out.shape == (3, 1, 28, 28), f"expected (3, 1, 28, 28), got {tuple(out.shape)}"
    assert torch.allclose(unet(x, t[:, None]), out), "t of shape (N, 1) must give the same output as t of shape (N,)"


@graded("ClassConditionalUNet returns the input's shape, with and without mask", points=1,
        hint="fc1_t and fc1_c give 2D features, fc2_t and fc2_c give D; the class blocks take the one-hot c "
             "(num_classes inputs), the time blocks t / T (1 input).")
def test_class_unet_shape(student: Student) -> None:
    for n in (1, 4):
        x, t, c = inputs.images(n), inputs.uniform(n), inputs.one_hot(list(range(n)))
        mask = torch.tensor([1, 0, 1, 0][:n])
        runs = [(x, c, t), (x, c, t[:, None]), (x, c, t, mask)]
        info = student.module("unet.ClassConditionalUNet", 1, 10, 8).run(runs)
        for out, label in zip(info.outputs, ["t (N,)", "t (N, 1)", "t (N,) and a mask"], strict=True):
            expect_tensor(out, f"ClassConditionalUNet(1, 10, 8) on x {tuple(x.shape)}, c (N, 10), {label}", x.shape)


@self_check("test_class_unet_shape", points=2)
def public_class_unet_shapes_with_and_without_mask(hw, kit):
    unet = hw.unet.ClassConditionalUNet(1, 10, kit.NUM_HIDDENS).eval()
    x, c, t = kit.images(3), kit.one_hot([1, 4, 7]), torch.rand(3)
    assert unet(x, c, t).shape == (3, 1, 28, 28)
    assert unet(x, c, t, mask=torch.tensor([1.0, 0.0, 1.0])).shape == (3, 1, 28, 28)
    assert unet(x, torch.zeros_like(c), t[:, None]).shape == (3, 1, 28, 28), "c = 0 (unconditional) must work"


def _blocks_hint(info: ModuleInfo, design: dict[str, int]) -> str | None:
    """Which of the design's blocks have no submodule of the same size, and vice versa."""
    left = Counter(design.values())
    unmatched = []
    for name, count in info.children:
        if left[count] > 0:
            left[count] -= 1
        elif count:
            unmatched.append(f"{name} ({count:,})")
    missing = [f"{block} ({n:,})" for block, n in design.items() if left[n] > 0 and n]
    if not missing and not unmatched:
        return None
    return (f"blocks of the design without a submodule of that size: {', '.join(missing) or 'none'}; "
            f"your submodules whose size is not in the design: {', '.join(unmatched) or 'none'}")


def _expect_params(student: Student, name: str, args: tuple, c: int, d: int) -> None:
    """Counted by the grader from the parameters the design check used (that check shows they are the
    module's, used as the design uses them); the module's own count only serves the hint."""
    info = student.module(f"unet.{name}", *args).run([_forward_inputs(name)])
    expected = unet_counts.total(name, c, d)
    if info.n_params != expected:
        raise Mismatch(
            f"the parameter count of {name}{args}",
            f"  expected {expected:,} parameters (the handout's design), got {info.n_params:,}",
            _blocks_hint(info, unet_counts.BLOCKS[name](c, d)),
        )
    _unet_design(student, name, (*args[:-1], 8))  # the design, by outputs (at a small width: cheaper, same layers)
    counted = sum(math.prod(shape) for _, params in info.called for _, shape in params)
    expect_true(counted == expected, f"the parameter count of {name}{args}, from the weights its forward uses",
                f"  {counted:,} parameters take part in a forward pass, expected {expected:,}")


@graded("UnconditionalUNet(1, 128) has the handout's parameter count", points=2)
def test_params_unconditional(student: Student) -> None:
    _expect_params(student, "UnconditionalUNet", (1, 128), 1, 128)


@graded("Time- and ClassConditionalUNet(1, 10, 64) have the handout's parameter counts", points=2)
def test_params_conditional(student: Student) -> None:
    _expect_params(student, "TimeConditionalUNet", (1, 10, 64), 1, 64)
    _expect_params(student, "ClassConditionalUNet", (1, 10, 64), 1, 64)


DESIGN_X, DESIGN_T, DESIGN_C = inputs.images(2), inputs.uniform(2), inputs.one_hot([3, 8])


def _forward_inputs(name: str) -> tuple[torch.Tensor, ...]:
    return {"UnconditionalUNet": (DESIGN_X,), "TimeConditionalUNet": (DESIGN_X, DESIGN_T),
            "ClassConditionalUNet": (DESIGN_X, DESIGN_C, DESIGN_T)}[name]


def _unet_design(student: Student, name: str, args: tuple, **kwargs: Any) -> ModuleInfo:
    """The whole UNet against the design, with the grader's weights, inputs, t and classes."""
    d = args[-1]
    forward = _forward_inputs(name)
    x, t, c = DESIGN_X, DESIGN_T, DESIGN_C

    def reference(called: Any, weights: Any, got: Any) -> float:
        return unet_design.unet_agrees(called, weights, got, name, x, d, t=t, c=c,
                                       modulation=kwargs.get("modulation", "add"))

    return _design(student, name, args, forward, reference, f"{name}{args} with the grader's weights", **kwargs)


@graded("The UNets have BatchNorm and GELU where the design puts them", points=1, visibility="after_published")
def test_unet_layer_counts(student: Student) -> None:
    for name, args in [("UnconditionalUNet", (1, 8)), ("TimeConditionalUNet", (1, 10, 8)),
                       ("ClassConditionalUNet", (1, 10, 8))]:
        info = _unet_design(student, name, args)
        kinds = Counter(kind for _, kind in info.leaves)
        # A GELU applied with F.gelu in forward is a GELU too: count what a forward applied, where more.
        kinds["GELU"] = max(kinds["GELU"], info.gelu_calls[0] if info.gelu_calls else 0)
        for layer, expected in unet_counts.layer_counts(name).items():  # the design agrees: a hint only
            expect_true(kinds[layer] == expected, f"the {layer} layers of {name}{args}",
                        f"  expected {expected} (one per op of the design), got {kinds[layer]}")


@graded("ClassConditionalUNet: mask = 0 is the same as c = 0", points=1, visibility="after_published",
        hint="mask (N,) of 0/1 zeroes the class of the samples where it is 0: multiply c by mask as a column before "
             "fc1_c and fc2_c.")
def test_class_unet_mask(student: Student) -> None:
    # Train mode, one batch for both calls: BatchNorm then treats the two calls identically.
    x, t, c = inputs.images(4), inputs.uniform(4), inputs.one_hot([3, 1, 4, 1])
    mask = torch.tensor([1, 0, 1, 0])
    info = student.module("unet.ClassConditionalUNet", 1, 10, 8).run([(x, c, t, mask), (x, c * mask[:, None], t)])
    expect_close(info.outputs[0], info.outputs[1], "ClassConditionalUNet(x, c, t, mask) vs (x, c * mask, t)")


def _differs(a: torch.Tensor, b: torch.Tensor) -> bool:
    return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and (a - b).abs().max().item() > 1e-4


@graded("The conditional UNets use t and c", points=1, visibility="after_published")
def test_conditioning_changes_output(student: Student) -> None:
    x = inputs.images(2)
    zeros, ones = torch.zeros(2), torch.ones(2)
    info = student.module("unet.TimeConditionalUNet", 1, 10, 8).run([(x, zeros), (x, ones)])
    expect_true(_differs(*info.outputs), "TimeConditionalUNet: the output for t = 0 and t = 1",
                "  the two outputs are the same: t does not reach the network")
    c = inputs.one_hot([2, 7])
    info = student.module("unet.ClassConditionalUNet", 1, 10, 8).run([(x, c, zeros), (x, torch.zeros_like(c), zeros)])
    expect_true(_differs(*info.outputs), "ClassConditionalUNet: the output with c and with c = 0",
                "  the two outputs are the same: c does not reach the network")


@graded("TimeConditionalUNet(modulation=\"mul\") multiplies instead of adding", points=1, visibility="after_published")
def test_modulation_mul(student: Student) -> None:
    x, t = inputs.images(2), inputs.uniform(2)
    add = student.module("unet.TimeConditionalUNet", 1, 10, 8).run([(x, t)]).outputs[0]
    mul = student.module("unet.TimeConditionalUNet", 1, 10, 8, modulation="mul").run([(x, t)]).outputs[0]
    expect_tensor(mul, "TimeConditionalUNet(1, 10, 8, modulation='mul')", x.shape)
    expect_true(_differs(add, mul), "TimeConditionalUNet: modulation='mul' vs the default 'add'",
                "  same weights (same seed), same output: the modulation keyword changes nothing")


def _rows(width: int, **values: float) -> dict[str, torch.Tensor]:
    """Stand-in outputs for the embedding blocks: fc1_* are 2D wide, fc2_* D wide."""
    return {name: torch.full((2 * width if name.startswith("fc1") else width,), v) for name, v in values.items()}


@graded("The embeddings enter as the handout says: h + t1 (time-only), c1 * h + t1 (class)",
        points=1, visibility="hidden")
def test_modulation_form(student: Student) -> None:
    """The embeddings enter as the contract says, probed by replacing the FCBlocks' outputs with
    constants: time-only h + t1 (h * t1 with modulation='mul'); class-conditioned c1 * h + t1."""
    x, t, d = inputs.images(2), inputs.uniform(2), 8
    # h + 0 (add) and h * 1 (mul) both leave h unchanged: the same weights must give the same output.
    add = student.module("unet.TimeConditionalUNet", 1, 10, d).run([(x, t)], replace=[_rows(d, fc1_t=0, fc2_t=0)])
    mul = student.module("unet.TimeConditionalUNet", 1, 10, d, modulation="mul").run(
        [(x, t)], replace=[_rows(d, fc1_t=1, fc2_t=1)])
    a = expect_tensor(add.outputs[0], "TimeConditionalUNet(1, 10, 8)", x.shape)
    m = expect_tensor(mul.outputs[0], "TimeConditionalUNet(1, 10, 8, modulation='mul')", x.shape)
    expect_true(not _differs(a, m),
                "TimeConditionalUNet with t1 = t2 = 0 (default: h + t) vs t1 = t2 = 1 (modulation='mul': h * t)",
                f"  the outputs differ by up to {(a - m).abs().max().item():.3g}; h + 0 and h * 1 are both h",
                "the default modulation adds the time embedding (h + t1, handout 000); modulation='mul' multiplies "
                "(h * t1, handout 001)")
    # h * 0 is 0 at either injection, and the output stays finite; h / 0 is not.
    zero = student.module("unet.TimeConditionalUNet", 1, 10, d, modulation="mul").run(
        [(x, t), (x, t)], replace=[_rows(d, fc1_t=0, fc2_t=1), _rows(d, fc1_t=1, fc2_t=0)])
    expect_true(all(isinstance(o, torch.Tensor) and bool(torch.isfinite(o).all()) for o in zero.outputs),
                "TimeConditionalUNet(modulation='mul') with t1 = 0 or t2 = 0",
                "  the output holds inf or NaN: the embedding divides h instead of multiplying it",
                "modulation='mul' multiplies h by the time embedding: h * t1")
    _expect_class_form(student)


def _expect_class_form(student: Student) -> None:
    """c1 * h + t1: (c1, t1) = (1, 1) gives h + 1 and (2, 0) gives 2 h; adding the class (h + c1 + t1) gives
    h + 2 both times."""
    x, t, c, d = inputs.images(2), inputs.uniform(2), inputs.one_hot([2, 7]), 8
    info = student.module("unet.ClassConditionalUNet", 1, 10, d).run(
        [(x, c, t), (x, c, t)], replace=[_rows(d, fc1_c=1, fc1_t=1, fc2_c=1, fc2_t=1),
                                         _rows(d, fc1_c=2, fc1_t=0, fc2_c=2, fc2_t=0)])
    expect_true(_differs(*info.outputs), "ClassConditionalUNet: the output with (c1, t1) = (1, 1) and with (2, 0)",
                "  the same output: only c1 + t1 matters, so the class embedding is added, not multiplied",
                "the class-conditioned UNet multiplies by the class embedding and adds the time one: c1 * h + t1")


# -- course dialects ----------------------------------------------------------------------------------


@graded("ClassConditionalUNet: with mask = 0 the class makes no difference, with mask = 1 it does", points=1,
        visibility="after_published", dialects=("cs180-fa24-ddpm", "cs180-flow"))
def test_class_unet_mask_hides_the_class(student: Student) -> None:
    """The course passes the class as int64 labels, so a zero row of c does not exist: the mask alone
    must hide the class."""
    x, t = inputs.images(2), inputs.uniform(2)
    c, other = inputs.one_hot([2, 7]), inputs.one_hot([5, 1])
    zeros, ones = torch.zeros(2), torch.ones(2)
    info = student.module("unet.ClassConditionalUNet", 1, 10, 8).run(
        [(x, c, t, zeros), (x, other, t, zeros), (x, c, t, ones), (x, other, t, ones)])
    outs = [expect_tensor(o, "ClassConditionalUNet(1, 10, 8)", x.shape) for o in info.outputs]
    expect_true(not _differs(outs[0], outs[1]), "ClassConditionalUNet with mask = 0 and two different classes",
                f"  the outputs differ by up to {(outs[0] - outs[1]).abs().max().item():.3g}",
                "where mask is 0, zero the one-hot class vector before the class embedding")
    expect_true(_differs(outs[2], outs[3]), "ClassConditionalUNet with mask = 1 and two different classes",
                "  the same output: the class is not used", "feed the one-hot class through fc1_c and fc2_c")


@graded("The embeddings enter as the handout says: c1 * h + t1", points=1, visibility="hidden",
        dialects=("cs180-fa24-ddpm", "cs180-flow"))
def test_modulation_form_class(student: Student) -> None:
    """The class part of the contract's test_modulation_form, for a course whose time-only UNet has one
    form only."""
    _expect_class_form(student)
