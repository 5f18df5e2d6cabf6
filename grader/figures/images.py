"""Decoding a figure's bytes into grayscale arrays, refusing what is not a sane PNG or GIF.

Pillow reads only the two formats the deliverables use, and the pixel count is checked from
the header before any pixel is decoded (a small file can declare a huge image).
"""

from __future__ import annotations

import io
import json
import math
import warnings

import numpy as np
from PIL import Image

MAX_PIXELS = 4096 * 4096  # per frame
MAX_FRAMES = 400
MAX_ALL_PIXELS = 64 << 20  # frames x pixels: what decoding every frame of an animation may cost
MIN_SIDE = 32
MAX_JSON = 8 << 20
MIN_STD = 0.02  # a figure whose pixels barely vary (blank, one colour) shows nothing


class FigureProblem(ValueError):
    """The figure cannot be judged as handed in; the message says why, for the student."""


def open_image(data: bytes, name: str) -> Image.Image:
    """The image, header checked (format matching the file's extension, size); pixels not decoded yet."""
    expected = "GIF" if name.lower().endswith(".gif") else "PNG"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[expected])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FigureProblem(f"{name} declares far more pixels than a figure has (at most {MAX_PIXELS})") from None
    except Exception as exc:  # Pillow raises many types for a broken or foreign file
        raise FigureProblem(f"{name} is not a readable {expected} file ({type(exc).__name__})") from None
    w, h = im.size
    if w * h > MAX_PIXELS or min(w, h) < MIN_SIDE:
        raise FigureProblem(f"{name} is {w}x{h} pixels: expected between {MIN_SIDE} px a side and {MAX_PIXELS} pixels")
    frames = getattr(im, "n_frames", 1)
    if frames > MAX_FRAMES:
        raise FigureProblem(f"{name} has {frames} frames (at most {MAX_FRAMES})")
    if w * h * frames > MAX_ALL_PIXELS:
        raise FigureProblem(f"{name} holds {frames} frames of {w}x{h} pixels: more than {MAX_ALL_PIXELS} "
                            "pixels in all (make the animation smaller or shorter)")
    return im


def to_gray(im: Image.Image) -> np.ndarray:
    """The current frame as grayscale in [0, 1], transparency composited over white (as viewers show it)."""
    rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float64) / 255.0


def decode(data: bytes, name: str) -> list[np.ndarray]:
    """Every frame of the figure in grayscale (one for a PNG); FigureProblem when unreadable or blank."""
    im = open_image(data, name)
    frames = []
    try:
        for k in range(getattr(im, "n_frames", 1)):
            im.seek(k)
            frames.append(to_gray(im))
    except Exception as exc:  # a truncated or corrupt stream
        raise FigureProblem(f"{name} could not be decoded ({type(exc).__name__}: {exc})") from None
    first = frames[0]
    if first.std() < MIN_STD:
        raise FigureProblem(f"{name} is blank: every pixel is about {first.mean():.2f} (0 black, 1 white)")
    return frames


def read_losses(data: bytes, name: str) -> tuple[list[float], int]:
    """(losses, iters_per_epoch) of a loss log {"run", "iters_per_epoch", "losses": [...]}."""
    if len(data) > MAX_JSON:
        raise FigureProblem(f"{name} is larger than {MAX_JSON >> 20} MB")
    try:
        log = json.loads(data)
        losses = [float(v) for v in log["losses"]]
        per_epoch = int(log["iters_per_epoch"])
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise FigureProblem(f"{name} is not a loss log with 'losses' and 'iters_per_epoch' ({exc})") from None
    if not losses or not all(math.isfinite(v) for v in losses):
        raise FigureProblem(f"{name}: the losses are empty or not all finite")
    return losses, per_epoch
