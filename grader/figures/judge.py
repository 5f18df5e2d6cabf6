"""Judging the deliverable figures of a submission against the manifest (assets/deliverables.json).

For each figure: read the file (present, a readable PNG/GIF of sane size, not blank), then by
kind: a grid must have the manifest's layout of tiles, found from the image, and tiles that are
not all flat; a loss figure needs its per-iteration log losses/<run>.json; a GIF must be
animated. Then its `check` (checks.py) judges the content, with its thresholds (the defaults in
checks.py, the figure's overrides in the manifest).
Figures are only ever decoded as images here, in the grader's process: never executed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..paths import MANIFEST
from ..results import FigureVerdict
from ..submission.deliverables import Deliverables
from . import checks
from .checks import Verdict
from .copies import nearest_mnist
from .images import FigureProblem, decode, read_losses
from .tiles import LayoutError, expect_layout, find_tiles


def load_manifest(path: Path = MANIFEST) -> list[dict]:
    return json.loads(path.read_text())["figures"]


def thresholds(fig: dict, check: str) -> dict[str, Any]:
    """The figure's own thresholds for `check` (its `thresholds` in the manifest, which apply to its own
    check): they override the defaults in checks.py. Every other check runs with its defaults."""
    return dict(fig.get("thresholds", {})) if check == fig.get("check") else {}


class Judge:
    """Judges figures one at a time and caches what several checks share (tiles, the classifier)."""

    def __init__(self, deliverables: Deliverables, manifest: list[dict] | None = None) -> None:
        self.deliverables = deliverables
        self.manifest = manifest if manifest is not None else load_manifest()
        self._tiles: dict[str, np.ndarray | Exception] = {}
        self._classifier: Callable[[np.ndarray], np.ndarray] | None = None

    def judge(self, fig: dict) -> FigureVerdict:
        data = self.deliverables.get(f"figures/{fig['file']}")
        try:
            verdict = self._check(fig)
        except (FigureProblem, LayoutError) as exc:
            verdict = Verdict(False, str(exc))
        return FigureVerdict(
            id=fig["id"], file=fig["file"], shows=fig["shows"], check=fig["check"], passed=verdict.passed,
            message=verdict.message, part=fig["part"], image=data, numbers=verdict.numbers,
        )

    # -- reading ----------------------------------------------------------------------------

    def _read(self, key: str) -> bytes:
        data = self.deliverables.get(key)
        if data is None:
            why = self.deliverables.skipped.get(key)
            raise FigureProblem(f"{key} was not read: {why}" if why else f"{key} is missing")
        return data

    def _frames(self, fig: dict) -> list[np.ndarray]:
        return decode(self._read(f"figures/{fig['file']}"), fig["file"])

    def tiles(self, fig: dict) -> np.ndarray:
        """The grid's tiles with the manifest's layout, checked not flat (cached: the epoch-5 check reads epoch 1)."""
        if fig["id"] not in self._tiles:
            try:
                frames = self._frames(fig)
                self._tiles[fig["id"]] = self._grid(fig, frames[0])
            except (FigureProblem, LayoutError) as exc:
                self._tiles[fig["id"]] = exc
        found = self._tiles[fig["id"]]
        if isinstance(found, Exception):
            raise found
        return found

    def _grid(self, fig: dict, gray: np.ndarray) -> np.ndarray:
        tiles = find_tiles(gray)
        expect_layout(tiles, fig["rows"], fig["cols"])
        flat = checks.not_blank(tiles, **thresholds(fig, "not_blank"))
        if not flat.passed:
            raise FigureProblem(flat.message)
        return tiles

    def probabilities(self, tiles: np.ndarray) -> np.ndarray:
        if self._classifier is None:
            self._classifier = _load_classifier()  # once per grading run, and only when a check needs it
        return self._classifier(tiles)

    # -- the checks -------------------------------------------------------------------------

    def _check(self, fig: dict) -> Verdict:
        check, kind = fig["check"], fig["kind"]
        params = thresholds(fig, check)
        if kind == "grid":
            tiles = self.tiles(fig)
        else:
            frames = self._frames(fig)
        if kind in ("plot", "loss"):
            plot = checks.present(frames[0], **thresholds(fig, "present"))
            if check == "present" or not plot.passed:
                return plot
        if check == "loss_falls":
            return self._loss(fig, params)
        if check == "animated":
            expect_layout(find_tiles(frames[-1]), fig["rows"], fig["cols"])
            return checks.animated(frames, **params)
        if check == "not_blank":
            return checks.not_blank(tiles, **params)
        if check in ("noise_grows_along_columns", "denoised_close_to_clean", "outputs_similar_to_each_other"):
            return getattr(checks, check)(tiles, **params)
        if check == "denoised_closer_than_epoch1":
            return checks.denoised_closer_than_epoch1(tiles, self._epoch1(fig), **params)
        if check in ("digits_present", "columns_are_digits"):
            copies = checks.not_copies(nearest_mnist(tiles), **thresholds(fig, "not_copies"))
            if not copies.passed:
                return copies
        if check == "digits_present":
            return checks.digits_present(tiles, self.probabilities(tiles), **params)
        if check == "columns_are_digits":
            return checks.columns_are_digits(self.probabilities(tiles), **params)
        raise ValueError(f"the manifest names an unknown check {check!r} for {fig['id']}")

    def _loss(self, fig: dict, params: dict[str, Any]) -> Verdict:
        name = f"losses/{fig['run']}.json"
        losses, per_epoch = read_losses(self._read(name), name)
        epochs = max((f.get("epoch", 1) for f in self.manifest if f.get("run") == fig["run"]), default=1)
        return checks.loss_falls(losses, per_epoch, epochs, **params)

    def _epoch1(self, fig: dict) -> np.ndarray:
        first = next(f for f in self.manifest if f.get("run") == fig["run"] and f.get("epoch") == 1)
        try:
            return self.tiles(first)
        except (FigureProblem, LayoutError) as exc:
            raise FigureProblem(f"needs the epoch-1 figure to compare with, but {first['file']}: {exc}") from None


def _load_classifier() -> Callable[[np.ndarray], np.ndarray]:
    """tiles (..., 28, 28) in [0, 1] -> softmax probabilities (..., 10) of the reference classifier."""
    import torch

    from .classifier import WEIGHTS, load_classifier

    if not WEIGHTS.exists():  # a broken installation of the grader, not the student's fault
        raise RuntimeError(f"the reference classifier's weights {WEIGHTS.name} are missing: run make classifier")
    model = load_classifier()

    @torch.no_grad()
    def probabilities(tiles: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(tiles.reshape(-1, 1, 28, 28), dtype=torch.float32)
        return model(x).softmax(dim=1).numpy().reshape(*tiles.shape[:-2], 10)

    return probabilities
