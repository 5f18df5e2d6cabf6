"""9. Training: the Part 1 losses and the optimisation step of train.py, checked exactly with a
recording mock UNet and a linear-regression probe; then smoke tests: the student's UNet, trained
with the student's loss on real MNIST batches in the sandbox, must learn (the loss falls),
generate finite images of the right shape with the student's sampler, and give the same run for
the same seed. Sizes and budgets per device: grader/checks/smoke.py."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.checks import inputs, smoke
from grader.checks import misconceptions as wrong
from grader.checks import reference as ref
from grader.checks.calls import first_call
from grader.checks.expect import Mismatch, expect_close, expect_scalar, expect_true
from grader.plugin import graded, self_check
from grader.sandbox import training
from grader.sandbox.student import Student, mock
from grader.worker.smoke import SIGMA


def _noise_std(noise: torch.Tensor, expected: float, what: str, mistakes: dict[str, float]) -> None:
    """The noise's sample std within 0.05 of `expected` (8 x 784 draws: 10 standard errors) and mean ~ 0."""
    std, mean = float(noise.std()), float(noise.mean())
    if abs(std - expected) <= 0.05 and abs(mean) <= 0.05:
        return
    hint = next((label for label, s in mistakes.items() if abs(std - s) <= 0.05), None)
    raise Mismatch(what, f"  the noise had standard deviation {std:.3f} and mean {mean:.3f}; expected "
                         f"{expected:g} and 0", mistake=hint)


@graded("train.denoiser_loss: MSE between the UNet's output on x + 0.5 noise and the clean x", points=1)
def test_denoiser_loss(student: Student) -> None:
    x = inputs.images(8)
    out = student.fn("train.denoiser_loss", seed=3)(mock(needs_t=False), x, SIGMA)
    rec = first_call(out.records, "the UNet's input in denoiser_loss")
    z = rec.x.to(torch.float64)
    _noise_std(z - x, SIGMA, "the noise denoiser_loss added (the UNet's input minus x)", wrong.noise_level(SIGMA))
    mock_out = ref.mock_eps(z, torch.zeros(len(x)))
    expect_scalar(out.value, F.mse_loss(mock_out, x.double()), "denoiser_loss(mock_unet, x, 0.5)",
                  {"compared the UNet's output with the noisy input instead of the clean x": F.mse_loss(mock_out, z),
                   "sum instead of mean over all elements": F.mse_loss(mock_out, x.double()) * x.numel()})


@self_check("test_denoiser_loss", points=1)
def public_denoiser_loss_is_a_finite_scalar(hw, kit):
    loss = hw.train.denoiser_loss(kit.small_net(), kit.images(), 0.5)
    assert kit.is_scalar(loss), f"expected a finite 0-dimensional tensor, got {loss!r}"


@graded("train.pure_noise_loss: the UNet sees pure noise; MSE against the clean x", points=1)
def test_pure_noise_loss(student: Student) -> None:
    x = inputs.images(8)
    out = student.fn("train.pure_noise_loss", seed=3)(mock(needs_t=False), x)
    rec = first_call(out.records, "the UNet's input in pure_noise_loss")
    z = rec.x.to(torch.float64)
    centred = x.double() - x.double().mean()
    corr = float((z * centred).mean() / (z.std() * centred.std()))
    expect_true(abs(corr) <= 0.05, "the UNet's input in pure_noise_loss (pure noise, independent of x)",
                f"  its correlation with x is {corr:.2f}", "the UNet must see only noise, torch.randn_like(x): "
                "not x, and not x plus noise")
    _noise_std(z, 1.0, "the pure noise the UNet got", {})
    mock_out = ref.mock_eps(z, torch.zeros(len(x)))
    expect_scalar(out.value, F.mse_loss(mock_out, x.double()), "pure_noise_loss(mock_unet, x)",
                  {"compared the UNet's output with the noise instead of the clean x": F.mse_loss(mock_out, z)})


@self_check("test_pure_noise_loss", points=1)
def public_pure_noise_loss_is_a_finite_scalar(hw, kit):
    loss = hw.train.pure_noise_loss(kit.small_net(), kit.images())
    assert kit.is_scalar(loss), f"expected a finite 0-dimensional tensor, got {loss!r}"


@graded("train.train_step: zero the gradients, backpropagate, clip, step; return the loss as a float",
        points=1, visibility="hidden")
def test_train_step(student: Student) -> None:
    x, y = inputs.features(16, 4), inputs.features(16, 3, seed=5)
    for lr, clip in ((0.1, None), (0.1, 0.05)):
        answer = student.train_step(x, y, lr, clip)
        what = f"train_step(model, optimizer, loss_fn, x, y, grad_clip={clip}), called twice (SGD, lr {lr})"
        kinds = answer["returned_types"]
        expect_true(kinds == ["float", "float"], f"{what}: what it returns",
                    f"  it returned {', '.join(kinds)}", "return loss.item(), a Python float (a tensor would keep "
                    "the whole graph alive in the loss log)")
        expected, losses = ref.sgd_steps(answer["before"], x, y, lr, clip)
        got = torch.cat([answer["after"]["weight"].flatten(), answer["after"]["bias"].flatten()])
        expect_close(got, expected, f"{what}: the parameters after the two steps",
                     wrong.train_step(answer["before"], x, y, lr, clip))
        expect_close(torch.tensor(answer["returned"]), torch.tensor(losses), f"{what}: the losses it returned",
                     {"the loss after the update instead of the loss of the step":
                      torch.tensor(losses[1:] + [ref.sgd_steps(answer["before"], x, y, lr, clip, steps=3)[1][2]])})


def _smoke(student: Student, part: str, what: str, n_samples: int) -> dict:
    """What the worker says of its run (losses, time, a rerun) can only cost points: each is checked
    for a hint. The points come from the grader's own measurement: the returned weights, loaded into
    a newly built UNet of the student's, on held-out digits noised by the grader, then sampled from
    with the grader's seed."""
    answer, cfg = training.run(student, part)
    losses = smoke.expect_training(answer, cfg, what)
    smoke.expect_reproducible(losses, training.rerun_losses(student, part), what, student.device)
    training.expect_learned_weights(student, part, answer, cfg, what, n_samples)
    return answer


@graded("The sigma = 0.5 denoiser trains and denoises held-out digits", points=3,
        hint="Train on add_noise(x, 0.5) with target x (MSE); the UNet must return the input's shape.")
def test_train_denoiser(student: Student) -> None:
    what = "the sigma = 0.5 denoiser (UnconditionalUNet, add_noise, MSE to the clean digit)"
    _smoke(student, "denoiser", what, 8)


@graded("The time-conditioned DDPM trains and samples", points=3)
def test_train_ddpm_time(student: Student) -> None:
    _smoke(student, "ddpm_time", "the time-conditioned DDPM (TimeConditionalUNet, ddpm_forward, ddpm_sample)", 8)


@graded("The class-conditioned DDPM trains and samples with guidance", points=3)
def test_train_ddpm_class(student: Student) -> None:
    what = "the class-conditioned DDPM (ClassConditionalUNet, ddpm_forward with c, ddpm_sample with CFG)"
    _smoke(student, "ddpm_class", what, 10)


@graded("Class-conditioned flow matching trains and samples with guidance", points=3)
def test_train_flow(student: Student) -> None:
    what = "class-conditioned flow matching (ClassConditionalUNet, fm_forward, fm_sample with CFG)"
    _smoke(student, "flow", what, 10)


@self_check(points=1)
def public_one_optimisation_step_returns_a_float(hw, kit):
    net = kit.small_net()
    before = [p.detach().clone() for p in net.parameters()]
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = lambda m, x, y: ((m(x) - x) ** 2).mean()
    loss = hw.train.train_step(net, optimizer, loss_fn, kit.images(), torch.zeros(4, dtype=torch.long))
    assert isinstance(loss, float), f"train_step must return the loss as a Python float, got {type(loss).__name__}"
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True)), (
        "train_step must update the parameters (optimizer.step())"
    )
