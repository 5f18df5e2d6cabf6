"""The training smoke tests (catalog part 9): the reference trains; a loss that cannot fall, a
training step too slow for its budget and a run that ignores the seed each lose the test with
a message that says so. The reference and the skeleton are covered by test_grader_solution
and test_grader_skeleton; broken imports and NaNs by test_grader_broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.checks import smoke
from grader.run import grade
from tests.grader_fixtures.grading import validate, workdir
from tests.grader_fixtures.variants import Variant

DRAW_T = "        t = torch.randint(0, num_ts, (x0.shape[0],), device=x0.device)\n"

# Owning the worker, a submission replaces the grader's training code there: no learning (lr 0), and a
# loss curve that falls the same way in every run, so every self-reported check passes.
FORGE = """

import sys as _sys


def _forged_train(import_module, req, device, _real=_sys.modules["grader_worker.smoke"].train):
    answer = _real(import_module, dict(req, lr=0.0), device)
    answer["losses"] = 1.0 / (1.0 + torch.arange(len(answer["losses"]), dtype=torch.float64))
    return answer


_sys.modules["grader_worker.smoke"].train = _forged_train
"""
# ...or the evaluation of the returned weights: it answers the noisy input it was sent.
FORGE_EVAL = """

import sys as _sys


def _forged_evaluate(import_module, req, device, _real=_sys.modules["grader_worker.smoke"].evaluate):
    return dict(_real(import_module, req, device), outputs=req["x"].float())


_sys.modules["grader_worker.smoke"].evaluate = _forged_evaluate
"""
LAST = "        return self.unet_pass(x, lambda h: c1 * h + t1, lambda h: c2 * h + t2)\n        # END SOLUTION\n"

VARIANTS = {
    # The target is fresh noise instead of the noise that made x_t: nothing to learn.
    "target_fresh_noise": (Variant("target_fresh_noise", (
        ("diffusion.py", "    return F.mse_loss(eps, noise)\n",
         "    return F.mse_loss(eps, torch.randn_like(noise))\n"),
    ), frozenset(), ""), "test_train_ddpm_time", "the training loss falls"),
    # Half a second per step: 60 steps do not fit in the CPU budget.
    "slow_step": (Variant("slow_step", (
        ("diffusion.py", DRAW_T, DRAW_T + "    __import__('time').sleep(0.5)\n"),
    ), frozenset(), ""), "test_train_ddpm_class", "training steps ran within the budget"),
    # A generator made once at import: a second run with the same seed continues its stream.
    "module_generator": (Variant("module_generator", (
        ("diffusion.py", DRAW_T,
         "        t = torch.randint(0, num_ts, (x0.shape[0],), generator=_GEN).to(x0.device)\n"),
        ("diffusion.py", "\n\ndef add_noise(", "\n\n_GEN = torch.Generator().manual_seed(0)\n\n\ndef add_noise("),
    ), frozenset(), ""), "test_train_ddpm_time", "the same seed gives the same training run"),
    # Forged measurements: only the grader's own measurement of the returned weights gives the points.
    "forged_losses": (Variant("forged_losses", (("unet.py", LAST, LAST + FORGE),), frozenset(), ""),
                      "test_train_ddpm_time", "the trained UNet on held-out digits"),
    "forged_evaluation": (Variant("forged_evaluation", (("unet.py", LAST, LAST + FORGE_EVAL),), frozenset(), ""),
                          "test_train_denoiser", "the trained UNet on held-out digits"),
}


def _grade(folder: Path | str, tests: str, name: str):
    out = workdir("training") / name
    result = grade(folder, out, tests=tests, device="cpu")
    validate(json.loads((out / "results.json").read_text()))
    return {t.id: t for t in result.tests}


def test_settings_per_device() -> None:
    cpu, cuda = smoke.settings("ddpm_class", "cpu"), smoke.settings("denoiser", "cuda")
    assert cpu["hidden"] < cuda["hidden"] == 128 and cpu["steps"] < cuda["steps"]
    assert smoke.settings("flow", "cuda")["hidden"] == 64  # the handout's width


@pytest.mark.parametrize("name", list(VARIANTS))
def test_training_bug_loses_its_test(name: str) -> None:
    variant, test_id, message = VARIANTS[name]
    folder = variant.build(workdir("training-variants"))
    tests = _grade(folder, test_id, name)
    assert not tests[test_id].passed
    assert message in tests[test_id].message, tests[test_id].message
    assert not tests[test_id].grader_error
