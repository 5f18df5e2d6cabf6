"""Training smoke runs, driven from the grader: the MNIST batches a run trains on, the requests to the
worker (train, a short rerun, the returned weights on held-out digits), and the verdicts of
grader/checks/smoke.py on what comes back."""

from __future__ import annotations

from typing import Any

import torch

from .. import data
from ..checks import smoke
from .student import Student


def _timeout(cfg: dict[str, Any]) -> float:
    return cfg["budget_s"] + smoke.SAMPLE_ALLOWANCE_S


def _batches(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        return data.training_sample(n, seed=seed)
    except data.DataMissing as exc:
        raise RuntimeError(str(exc)) from None  # the grader's setup, reported as a grader error


def run(student: Student, part: str, seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one part in the worker; returns (the worker's answer, the settings used)."""
    cfg = smoke.settings(part, student.device)
    images, labels = _batches(cfg["steps"] * cfg["batch"] + 8, seed)
    answer = student.train(part, {**cfg, "weights": True}, images, labels, timeout=_timeout(cfg), seed=seed)
    return smoke.answer_dict(answer, f"the training smoke run of {part}"), cfg


def rerun_losses(student: Student, part: str, seed: int = 0) -> Any:
    """The first losses of a short second run with the same seed (what it says can only cost points)."""
    full = smoke.settings(part, student.device)
    cfg = {**full, "steps": smoke.RERUN_STEPS}
    images, labels = _batches(full["steps"] * cfg["batch"] + 8, seed)
    answer = student.train(part, {**cfg, "sample": False}, images, labels, timeout=_timeout(cfg), seed=seed)
    return smoke.answer_dict(answer, f"the rerun of {part}").get("losses")


def expect_learned_weights(student: Student, part: str, answer: dict[str, Any], cfg: dict[str, Any], what: str,
                           n_samples: int) -> None:
    """The run's weights in a newly built UNet: better than the cheap fakes on held-out digits, and
    the student's sampler makes images of the right shape from them with the grader's seed."""
    images, _ = _batches(cfg["steps"] * cfg["batch"] + 8, 0)
    inputs, target, fakes = smoke.held_out(part, cfg, images[8:], data.mnist_uint8(train=False))
    value = smoke.answer_dict(student.evaluate(part, cfg, answer.get("state"), inputs, timeout=_timeout(cfg),
                                               seed=smoke.EVAL_SEED), what)
    if part != "denoiser":
        smoke.expect_samples(value, f"{what}: sampled from the returned weights", n_samples)
    smoke.expect_learned(value.get("outputs"), target, fakes, what)
