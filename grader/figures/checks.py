"""The content checks of the deliverable figures, one function per `check` name of the manifest.

Each takes what was read from the figure (tiles as a (rows, cols, 28, 28) array in [0, 1],
classifier probabilities, GIF frames, a loss log) and its thresholds as keyword arguments: the
defaults here, beside what they bound, and a figure's own overrides from its `thresholds` in the
manifest (solution/manifest.py, assets/deliverables.json). It returns a Verdict: passed, one line saying
what was measured against which threshold, and the numbers. Reading the files, the layout and
"not blank" are checked before (judge.py); these functions only judge content.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RING = np.zeros((28, 28), dtype=bool)  # the two outer pixels of a tile: background in MNIST
RING[:2], RING[-2:], RING[:, :2], RING[:, -2:] = True, True, True, True


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    numbers: dict[str, float] = field(default_factory=dict)


def roughness(tiles: np.ndarray) -> np.ndarray:
    """Per tile, the mean absolute difference between neighbouring pixels: noise raises it,
    smooth digits keep it low."""
    dx = np.abs(np.diff(tiles, axis=-1)).mean(axis=(-2, -1))
    dy = np.abs(np.diff(tiles, axis=-2)).mean(axis=(-2, -1))
    return (dx + dy) / 2


def rank_correlation(values: np.ndarray) -> float:
    """Spearman's correlation between position and value (1: strictly increasing)."""
    ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable").astype(float)
    position = np.arange(len(values), dtype=float)
    if ranks.std() == 0:
        return 0.0
    return float(np.corrcoef(position, ranks)[0, 1])


def present(gray: np.ndarray, min_background: float = 0.5) -> Verdict:  # white pixels: a chart on white
    """A plot (schedules, loss curve): readable, not blank (checked before), and mostly white
    background, as a chart is; a photo or a noise image is not."""
    share = float((gray >= 0.98).mean())
    passed = share >= min_background
    return Verdict(passed, f"a readable plot: {share:.0%} of its pixels are white background "
                   f"(at least {min_background:.0%})", {"background": share})


def not_blank(tiles: np.ndarray, min_tile_std: float = 0.02, min_fraction: float = 0.25) -> Verdict:
    # A tile whose pixels vary less than min_tile_std is flat; at least min_fraction of the tiles must not be.
    share = float((tiles.std(axis=(-2, -1)) >= min_tile_std).mean())
    passed = share >= min_fraction
    return Verdict(passed, f"{share:.0%} of the tiles are not flat (pixel std >= {min_tile_std:g}); "
                   f"at least {min_fraction:.0%} needed", {"not_flat": share})


def noise_grows_along_columns(
    tiles: np.ndarray,
    min_correlation: float = 0.9,  # Spearman correlation between column and mean roughness (|pixel - neighbour|)
    min_ratio: float = 2.0,  # roughness of the last column / the first (sigma = 1 vs sigma = 0)
    rows: list[int] | None = None,
) -> Verdict:
    """Noise (roughness) per column, averaged over `rows` (all when None), rises left to right."""
    per_column = roughness(tiles[rows] if rows else tiles).mean(axis=0)
    corr = rank_correlation(per_column)
    ratio = float(per_column[-1] / max(per_column[0], 1e-6))
    passed = corr >= min_correlation and ratio >= min_ratio
    trend = " -> ".join(f"{v:.3f}" for v in per_column)
    return Verdict(
        passed,
        f"noise per column {trend}: rank correlation with the column {corr:.2f} "
        f"(at least {min_correlation:g}), last / first {ratio:.1f} (at least {min_ratio:g})",
        {"rank_correlation": corr, "last_over_first": ratio},
    )


def _denoising_errors(tiles: np.ndarray) -> tuple[float, float]:
    """(denoised, noisy) mean squared errors to the clean row; rows are clean, noisy, denoised."""
    clean, noisy, denoised = tiles[0], tiles[1], tiles[2]
    return float(((denoised - clean) ** 2).mean()), float(((noisy - clean) ** 2).mean())


def denoised_close_to_clean(tiles: np.ndarray, max_ratio: float = 0.5) -> Verdict:
    # max_ratio: MSE(denoised, clean) / MSE(noisy, clean)
    """The denoised row is much closer to the clean row than the noisy row is."""
    err, noisy = _denoising_errors(tiles)
    ratio = err / max(noisy, 1e-9)
    passed = ratio <= max_ratio
    return Verdict(
        passed,
        f"denoised row: mean squared error to the clean row {err:.4f}, the noisy row's {noisy:.4f}: "
        f"ratio {ratio:.2f} (at most {max_ratio:g})",
        {"mse_denoised": err, "mse_noisy": noisy, "ratio": ratio},
    )


def denoised_closer_than_epoch1(
    tiles: np.ndarray,
    epoch1: np.ndarray,
    max_ratio: float = 0.5,  # as denoised_close_to_clean
    max_vs_epoch1: float = 1.0,  # MSE(denoised, clean) at this epoch / at epoch 1
    max_clean_difference: float = 0.02,  # mean |clean row - epoch 1's clean row|: the same digits
) -> Verdict:
    """Closer to the clean digits than the epoch-1 figure's denoised row (same digits, same noise)."""
    first = denoised_close_to_clean(tiles, max_ratio)
    if not first.passed:
        return first
    if epoch1.shape != tiles.shape:
        return Verdict(False, f"the epoch-1 figure has {epoch1.shape[0]} x {epoch1.shape[1]} tiles, "
                       f"this one {tiles.shape[0]} x {tiles.shape[1]}")
    clean_diff = float(np.abs(tiles[0] - epoch1[0]).mean())
    if clean_diff > max_clean_difference:
        why = f"the clean rows of the epoch-1 and epoch-5 figures differ (mean |difference| {clean_diff:.3f})"
        return Verdict(False, f"{why}: both should show the same digits and noise", {"clean_difference": clean_diff})
    err5, err1 = _denoising_errors(tiles)[0], _denoising_errors(epoch1)[0]
    ratio = err5 / max(err1, 1e-9)
    passed = ratio <= max_vs_epoch1
    return Verdict(
        passed,
        f"denoised-to-clean mean squared error {err5:.4f} after this epoch, {err1:.4f} after epoch 1: "
        f"ratio {ratio:.2f} (at most {max_vs_epoch1:g}); {first.message}",
        {**first.numbers, "mse_epoch1": err1, "vs_epoch1": ratio},
    )


def outputs_similar_to_each_other(
    tiles: np.ndarray,
    max_spread_ratio: float = 0.3,  # mean per-pixel std across the outputs / across the noise inputs
    min_output_std: float = 0.02,  # the outputs' own pixel std: an image, not a flat tile
) -> Verdict:
    """Row 0 holds different noise inputs, row 1 the outputs: the outputs are nearly one image."""
    spread_in = float(tiles[0].std(axis=0).mean())
    spread_out = float(tiles[1].std(axis=0).mean())
    contrast = float(tiles[1].std(axis=(-2, -1)).mean())
    ratio = spread_out / max(spread_in, 1e-9)
    passed = ratio <= max_spread_ratio and contrast >= min_output_std
    return Verdict(
        passed,
        f"spread between the outputs {spread_out:.3f}, between the inputs {spread_in:.3f}: ratio "
        f"{ratio:.2f} (at most {max_spread_ratio:g}); the outputs' own pixel std {contrast:.3f} "
        f"(at least {min_output_std:g}: an image, not a flat tile)",
        {"spread_ratio": ratio, "output_std": contrast},
    )


def digit_like(
    tiles: np.ndarray,
    max_border: float = 0.15,  # mean of the tile's 2-pixel border (MNIST's background is dark)
    min_ink: float = 0.02,  # share of pixels > 0.5: some ink ...
    max_ink: float = 0.45,  # ... but not a filled tile
    max_roughness: float = 0.2,  # mean |pixel - neighbour|: smooth strokes, not noise
) -> np.ndarray:
    """Per tile, whether it looks like an MNIST digit before anyone reads it: a dark border, some
    but not too much ink, smooth strokes. The classifier is confident on some noise and on flat
    white tiles (inputs it never saw), so its confidence alone does not say "a digit"."""
    border = tiles[..., RING].mean(axis=-1)
    ink = (tiles > 0.5).mean(axis=(-2, -1))
    return (border <= max_border) & (ink >= min_ink) & (ink <= max_ink) & (roughness(tiles) <= max_roughness)


def digits_present(
    tiles: np.ndarray,
    probs: np.ndarray,
    min_confidence: float = 0.9,  # the classifier's top probability for a tile to count as a digit
    min_fraction: float = 0.2,  # share of such tiles (the reference's quick run: 33-40%; noise, flat or blank: 0%)
    **looks: float,
) -> Verdict:
    """probs: (rows, cols, 10) softmax of the reference classifier for each tile. A tile counts when
    it is digit-like (`looks`: the thresholds of digit_like) and read with probability >= min_confidence."""
    like = digit_like(tiles, **looks)
    share = float((like & (probs.max(axis=-1) >= min_confidence)).mean())
    passed = share >= min_fraction
    return Verdict(
        passed,
        f"{share:.0%} of the tiles look like digits and are read as one with probability >= {min_confidence:g} "
        f"by the reference classifier (at least {min_fraction:.0%} needed; {like.mean():.0%} look like digits)",
        {"confident": share, "digit_like": float(like.mean())},
    )


def not_copies(
    nearest: dict[str, np.ndarray],
    max_rms: float = 0.05,  # a tile whose nearest MNIST image (train or test) is this close is a copy
    max_fraction: float = 0.1,  # share of copies a grid may hold (the reference's samples: none; nearest RMS >= 0.075)
    max_similarity: float = 0.975,  # a tile this correlated with an MNIST digit (blurred, shifted) is a near-copy
    max_near_fraction: float = 0.25,  # share of near-copies a grid may hold (the reference's: 0-7.5%)
) -> Verdict:
    """nearest: per tile, the RMS pixel difference to the nearest MNIST image (train and test) and
    the highest correlation with one, blurred and shifted (copies.py). Samples are the model's: a
    grid of copied or barely altered data set digits is not evidence of a model. Measured: shifted,
    blurred (3x3), rescaled or noised (sigma 0.1) test digits are near-copies in 78-100% of a grid;
    the reference's quick samples in 0-7.5% (highest correlation 0.983)."""
    copied = float((nearest["rms"] <= max_rms).mean())
    near = float((nearest["similarity"] >= max_similarity).mean())
    numbers = {"copied": copied, "near_copies": near, "nearest_rms_min": float(nearest["rms"].min()),
               "similarity_max": float(nearest["similarity"].max())}
    if copied > max_fraction:
        return Verdict(False, f"{copied:.0%} of the tiles are copies of MNIST images (the nearest MNIST digit "
                       f"within RMS {max_rms:g}; at most {max_fraction:.0%} allowed): a grid of samples must show "
                       "what the model generated", numbers)
    passed = near <= max_near_fraction
    return Verdict(passed, f"{near:.0%} of the tiles are near-copies of MNIST images (correlation >= "
                   f"{max_similarity:g} with one, blurred and moved by up to 2 pixels; at most "
                   f"{max_near_fraction:.0%} allowed) and {copied:.0%} are copies", numbers)


def columns_are_digits(probs: np.ndarray, min_fraction: float = 0.7) -> Verdict:
    # min_fraction: share of tiles the classifier reads as their column's digit (the reference's quick run: 90-98%)
    """Column j of a class-conditioned grid should be digit j."""
    predicted = probs.argmax(axis=-1)
    right = predicted == np.arange(probs.shape[1])[None, :]
    share = float(right.mean())
    passed = share >= min_fraction
    wrong = [str(j) for j in range(probs.shape[1]) if right[:, j].mean() < 0.5]
    detail = f"; mostly wrong in the columns of digits {', '.join(wrong)}" if wrong else ""
    return Verdict(
        passed,
        f"{share:.0%} of the tiles are read by the reference classifier as their column's digit "
        f"(at least {min_fraction:.0%} needed){detail}",
        {"right_digit": share},
    )


def animated(frames: list[np.ndarray], min_frames: int = 10, min_change: float = 0.05) -> Verdict:
    # min_change: mean |last frame - first frame|
    """A sampling GIF: enough frames, and the picture changes from the first frame to the last."""
    change = float(np.abs(frames[-1] - frames[0]).mean()) if frames[0].shape == frames[-1].shape else 1.0
    passed = len(frames) >= min_frames and change >= min_change
    return Verdict(
        passed,
        f"{len(frames)} frames (at least {min_frames}); mean change from the first frame to the "
        f"last {change:.3f} (at least {min_change:g})",
        {"frames": float(len(frames)), "change": change},
    )


def loss_falls(
    losses: list[float],
    iters_per_epoch: int,
    epochs: int,
    min_iters_per_epoch: int = 10,  # a per-iteration log, not one loss per epoch
    max_end_over_start: float = 0.8,  # mean of the last tenth / mean of the first tenth
) -> Verdict:
    """A per-iteration log of `epochs` epochs whose mean over the last tenth is below the first tenth's."""
    n, needed = len(losses), max(iters_per_epoch, min_iters_per_epoch) * epochs
    if iters_per_epoch < min_iters_per_epoch or n < iters_per_epoch * epochs:
        return Verdict(
            False,
            f"the log has {n} losses at {iters_per_epoch} per epoch; a per-iteration log of {epochs} epochs "
            f"has at least {min_iters_per_epoch} per epoch and {needed} in all",
            {"losses": float(n), "iters_per_epoch": float(iters_per_epoch)},
        )
    tenth = max(1, n // 10)
    start, end = float(np.mean(losses[:tenth])), float(np.mean(losses[-tenth:]))
    ratio = end / start if start > 0 else float("inf")
    passed = ratio <= max_end_over_start
    return Verdict(
        passed,
        f"{n} losses ({iters_per_epoch} per epoch); mean of the last tenth {end:.4g}, of the first "
        f"{start:.4g}: ratio {ratio:.2f} (at most {max_end_over_start:g})",
        {"losses": float(n), "end_over_start": ratio},
    )
