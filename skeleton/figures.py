# Generated from the reference by tools/make_skeleton.py: do not edit by hand.
"""Figure helpers: labelled image grids, loss curves and sampling GIFs.

Grids are drawn at an exact integer zoom of torchvision's make_grid (2-pixel white
separators), so every tile is a clean 28k x 28k block a person and a program can read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

PAD = 2  # pixels between tiles, before zooming
ZOOM = 2


def grid_array(images: torch.Tensor, ncol: int) -> np.ndarray:
    """(N, 1, H, W) images in [0, 1] (clipped) -> one uint8 grayscale array, ncol tiles per row."""
    grid = make_grid(images.detach().float().cpu().clamp(0, 1), nrow=ncol, padding=PAD, pad_value=1.0)
    arr = (grid[0].numpy() * 255).round().astype(np.uint8)
    return np.kron(arr, np.ones((ZOOM, ZOOM), dtype=np.uint8))


def save_grid(
    images: torch.Tensor,
    path: str | Path,
    ncol: int,
    title: str = "",
    col_labels: Sequence[str] | None = None,
    row_labels: Sequence[str] | None = None,
) -> None:
    """Save images as a labelled grid (ncol tiles per row) to a PNG."""
    arr = grid_array(images, ncol)
    h, w = arr.shape
    tile = (h - PAD * ZOOM) / max(1, -(-len(images) // ncol))  # rows = ceil(N / ncol)
    left = 90 if row_labels else 10
    top = 50 if col_labels or title else 10
    dpi = 100
    fig = plt.figure(figsize=((w + left + 10) / dpi, (h + top + 10) / dpi), dpi=dpi)
    # One axes covering the grid exactly: 1 image pixel = 1 figure pixel.
    ax = fig.add_axes([left / (w + left + 10), 10 / (h + top + 10), w / (w + left + 10), h / (h + top + 10)])
    ax.imshow(arr, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_axis_off()
    col_w = (w - PAD * ZOOM) / ncol
    for j, label in enumerate(col_labels or []):
        ax.text(PAD * ZOOM + (j + 0.5) * col_w, -6, label, ha="center", va="bottom", fontsize=8)
    for i, label in enumerate(row_labels or []):
        ax.text(-6, PAD * ZOOM + (i + 0.5) * tile, label, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 4 / (h + top + 10), va="top")
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def save_loss_curve(losses: Sequence[float], path: str | Path, title: str, iters_per_epoch: int | None = None) -> None:
    """Per-iteration training loss (log scale) with a moving average on top."""
    y = np.asarray(losses, dtype=float)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(np.arange(1, len(y) + 1), y, lw=0.6, alpha=0.5, label="per iteration")
    k = max(1, len(y) // 50)
    if k > 1:
        smooth = np.convolve(y, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(k, len(y) + 1), smooth, lw=1.5, label=f"mean of {k}")
    if iters_per_epoch:
        for e in range(iters_per_epoch, len(y), iters_per_epoch):
            ax.axvline(e, color="0.85", lw=0.5, zorder=0)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def save_gif(frames: Sequence[torch.Tensor], path: str | Path, ncol: int, ms_per_frame: int = 60) -> None:
    """An animated GIF of the sampling trajectory (one grid per frame; the last one lingers)."""
    pics = [Image.fromarray(grid_array(f, ncol)) for f in frames]
    durations = [ms_per_frame] * (len(pics) - 1) + [1500]
    pics[0].save(path, save_all=True, append_images=pics[1:], duration=durations, loop=0)


def save_losses_json(losses: Sequence[float], path: str | Path, run: str, iters_per_epoch: int) -> None:
    """The loss log a grader reads: every iteration's loss and the epoch length."""
    Path(path).write_text(
        json.dumps({"run": run, "iters_per_epoch": iters_per_epoch, "losses": [float(v) for v in losses]})
    )
