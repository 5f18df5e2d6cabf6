"""A figure is evidence only with a model behind it (docs/security.md).

`make deliverables` writes each run's final UNet weights to weights/<run>.pt and the settings it
was built with to weights/<run>.json. The weights are opened only inside the sandbox, loaded into
the student's own UNet class; the grader then measures that model the way it measures a training
smoke run (checks/smoke.py): on MNIST test digits it noised itself the model must beat the cheap
fakes, and the samples it draws with the grader's seed must pass the content check of the run's
last sample grid without being copies of MNIST images. A run's figures, its loss curve included,
earn their points only when its model passes; figures with no weights behind them earn nothing.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np
import torch
from PIL import Image

from .. import data
from ..checks import smoke
from ..checks.expect import Mismatch
from ..results import FigureVerdict
from ..sandbox.student import StudentError
from ..submission.deliverables import Deliverables
from . import checks
from .copies import nearest_mnist
from .judge import Judge, thresholds

# run -> the part the worker builds (grader/worker/smoke.py): its UNet class, inputs and sampler
RUNS = {"denoiser": "denoiser", "purenoise": "purenoise", "ddpm_time": "ddpm_time", "ddpm_class": "ddpm_class",
        "fm_time": "fm_time", "fm_class": "flow", "fm_class_nosched": "flow"}
CHECK = "model_behind_figures"
SEED = 31337  # the sampler's seed: the grader's, unknown to the submission
# Class-conditioned: 2 x 10 (column k: digit k; the reference reads 88-95% right, 70% needed). Time-only:
# 40, as in the figures (the reference's quick run: 35% confident digits, 20% needed: fewer would be a lottery).
ROWS = {"ddpm_class": 2, "flow": 2, "ddpm_time": 5, "fm_time": 5}
COLS = {"ddpm_class": 10, "flow": 10, "ddpm_time": 8, "fm_time": 8}
LIMITS = {"num_hiddens": (1, 512), "num_ts": (1, 1000)}
TIMEOUT_S = 600.0  # loading, the held-out batch and 40 samples; the handout's widths on a CPU take minutes
MAX_SETTINGS = 64 << 10
WHERE = "make deliverables writes weights/ beside figures/ and losses/: upload it with them"


class Problem(Exception):
    """Why a run's weights could not be checked (the message names the file)."""


def read_settings(deliverables: Deliverables, run: str) -> dict[str, Any]:
    """weights/<run>.json: the UNet's width, the number of steps and the time modulation, bounded."""
    key = f"weights/{run}.json"
    raw = deliverables.get(key)
    if raw is None:
        raise Problem(f"{key} is missing ({WHERE})")
    try:
        settings = json.loads(raw[:MAX_SETTINGS]) if len(raw) <= MAX_SETTINGS else None
    except (ValueError, RecursionError):
        settings = None
    if not isinstance(settings, dict):
        raise Problem(f"{key} is not the JSON object make deliverables writes")
    out: dict[str, Any] = {}
    for name, (low, high) in LIMITS.items():
        value = settings.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Problem(f"{key}: {name} must be a whole number from {low} to {high}, not {str(value)[:40]}")
        out[name] = value
    modulation = settings.get("modulation", "add")
    if modulation not in ("add", "mul"):
        raise Problem(f"{key}: modulation must be \"add\" or \"mul\", not {str(modulation)[:40]}")
    out["modulation"] = modulation
    out["profile"] = str(settings.get("profile", "?"))[:20]
    return out


def png(tiles: np.ndarray) -> bytes:
    """(rows, cols, 28, 28) in [0, 1] -> a PNG grid (2-pixel white separators, 2x zoom), for the report."""
    rows, cols = tiles.shape[:2]
    canvas = np.ones((rows * 30 + 2, cols * 30 + 2))
    for i in range(rows):
        for j in range(cols):
            canvas[2 + 30 * i:30 * (i + 1), 2 + 30 * j:30 * (j + 1)] = tiles[i, j]
    arr = np.kron((canvas * 255).round().astype(np.uint8), np.ones((2, 2), dtype=np.uint8))
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def as_tiles(samples: torch.Tensor, rows: int, cols: int) -> np.ndarray:
    """Samples as a figure would show them: clipped to [0, 1] and rounded to 8 bits."""
    x = samples.detach().double().clamp(0, 1).mul(255).round().div(255)
    return x.reshape(rows, cols, 28, 28).numpy()


class Models:
    """The verdict on each run's model, measured once per grading (several tests share a run)."""

    def __init__(self, judge: Judge, student: Any) -> None:
        self.judge, self.student = judge, student
        self.deliverables, self.manifest = judge.deliverables, judge.manifest
        self.verdicts: dict[str, FigureVerdict] = {}
        self._pool: torch.Tensor | None = None  # training digits for the cheap fakes, drawn once per grading

    def verify(self, run: str) -> tuple[FigureVerdict, bool]:
        """(the verdict on the model behind `run`'s figures, whether it was measured just now)."""
        if run in self.verdicts:
            return self.verdicts[run], False
        start = time.monotonic()
        image, numbers = None, {}
        try:
            message, image, numbers = self._measure(run)
            passed = True
        except Problem as exc:
            passed, message = False, str(exc)
        except Mismatch as exc:
            passed, message = False, str(exc).replace("\n", " ").replace("  ", " ").strip()
        except StudentError as exc:
            passed, message = False, f"the submitted weights/{run}.pt could not be used: {exc.message}"
        took = time.monotonic() - start
        figure = next(f for f in self.manifest if f.get("run") == run)
        verdict = FigureVerdict(
            id=f"{run}_model", file=f"weights/{run}.pt", check=CHECK, part=figure["part"], passed=passed,
            shows=f"The model behind the {run} figures: the submitted weights in the submission's own UNet, "
                  "measured by the grader on its own inputs and seed",
            message=f"{message} (checked in {took:.1f} s)", image=image, numbers={**numbers, "seconds": took})
        self.verdicts[run] = verdict
        return verdict, True

    def _measure(self, run: str) -> tuple[str, bytes | None, dict[str, float]]:
        part = RUNS[run]
        weights = self.deliverables.get(f"weights/{run}.pt")
        if weights is None:
            why = self.deliverables.skipped.get(f"weights/{run}.pt")
            raise Problem(f"weights/{run}.pt was not read: {why}" if why else f"weights/{run}.pt is missing ({WHERE})")
        if not weights:
            raise Problem(f"weights/{run}.pt is empty ({WHERE})")
        settings = read_settings(self.deliverables, run)
        cfg = {"hidden": settings["num_hiddens"], "num_ts": settings["num_ts"]}
        if self._pool is None:
            self._pool = data.training_sample(4096, seed=0)[0]
        inputs, target, fakes = smoke.held_out(part, cfg, self._pool, data.mnist_uint8(train=False))
        load = {"weights": torch.frombuffer(bytearray(weights), dtype=torch.uint8),
                "modulation": settings["modulation"]}
        what = f"weights/{run}.pt ({settings['profile']} profile, width {settings['num_hiddens']})"
        value = smoke.answer_dict(self.student.evaluate(part, cfg, None, {**load, "rows": 0, **inputs},
                                                        timeout=TIMEOUT_S, seed=SEED), what)
        on = "pure-noise inputs (the target: the mean digit)" if part == "purenoise" else "held-out digits"
        err = smoke.expect_learned(value.get("outputs"), target, fakes, what, on)
        measured = f"held-out error {err:.4g}, better than every cheap fake"
        if part not in ROWS:
            return measured, None, {"held_out_mse": err}
        rows, cols = ROWS[part], COLS[part]  # sampled only from a model that passed: sampling is the slow part
        value = smoke.answer_dict(self.student.evaluate(part, cfg, None, {**load, "rows": rows}, timeout=TIMEOUT_S,
                                                        seed=SEED), what)
        samples = smoke.expect_samples(value, f"{what}: sampled with the grader's seed", rows * cols)
        tiles = as_tiles(samples, rows, cols)
        last = max((f for f in self.manifest if f.get("run") == run and f["kind"] == "grid"), key=lambda f: f["epoch"])
        verdicts = [checks.not_copies(nearest_mnist(tiles), **thresholds(last, "not_copies"))]
        params = thresholds(last, last["check"])
        if last["check"] == "columns_are_digits":
            verdicts.append(checks.columns_are_digits(self.judge.probabilities(tiles), **params))
        else:
            verdicts.append(checks.digits_present(tiles, self.judge.probabilities(tiles), **params))
        for v in verdicts:
            if not v.passed:
                raise Problem(f"{what}: {rows * cols} samples drawn with the grader's seed: {v.message}")
        numbers = {"held_out_mse": err, **verdicts[-1].numbers}
        sampled = f"{rows * cols} samples drawn with the grader's seed: {verdicts[-1].message}"
        return f"{measured}; {sampled}", png(tiles), numbers
