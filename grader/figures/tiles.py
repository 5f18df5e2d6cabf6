"""Finding the tiles of an image grid from its pixels alone.

The assignment draws grids with torchvision's make_grid (2-pixel white separators around and
between 28x28 tiles), zoomed by an exact integer factor, possibly inside a matplotlib figure
with a title and labels around it. So the grid is a lattice of period 30z: tiles of 28z
pixels separated by white lines of 2z. We find z and the lattice from the columns and rows that
hold content, then verify that every separator pixel is white: a figure that is not such a
grid is refused rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TILE = 28  # MNIST pixels per tile side, before zooming
PAD = 2  # make_grid's padding, before zooming
MAX_ZOOM = 8
WHITE = 0.98  # separators are exactly 1.0; anything darker is content (digits, noise, text)
CONTENT = 0.25  # a column is content when it holds this share of the typical tile column's dark pixels


class LayoutError(ValueError):
    """The image is not a make_grid tile grid (the message says what was found)."""


@dataclass(frozen=True)
class Lattice:
    """Where tiles lie along one axis: `count` tiles starting at `origin`, period 30 * zoom."""

    origin: int
    count: int
    zoom: int

    @property
    def period(self) -> int:
        return (TILE + PAD) * self.zoom

    @property
    def size(self) -> int:
        return TILE * self.zoom


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e - s)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def _content(dark_counts: np.ndarray) -> np.ndarray:
    """Columns (or rows) that cross tiles, as opposed to separators, margins and thin text."""
    positive = dark_counts[dark_counts > 0]
    if positive.size == 0:
        return np.zeros_like(dark_counts, dtype=bool)
    return dark_counts >= CONTENT * np.percentile(positive, 75)


def _lattice(content: np.ndarray, zoom: int) -> Lattice | None:
    """The longest run of tiles along an axis at this zoom, anchored on runs of exactly one tile."""
    size, period, sep = TILE * zoom, (TILE + PAD) * zoom, PAD * zoom
    anchors = [s for s, n in _runs(content) if n == size]
    if not anchors:
        return None
    phases, votes = np.unique(np.array(anchors) % period, return_counts=True)
    phase = int(phases[np.argmax(votes)])

    def is_tile(start: int) -> bool:
        inside = start - sep >= 0 and start + size + sep <= len(content)
        return inside and content[start : start + size].mean() >= 0.5 and not content[start - sep : start].any()

    best: tuple[int, int] | None = None
    k, n = (phase if phase >= sep else phase + period), 0
    while k + size <= len(content):
        if is_tile(k):
            n += 1
            if best is None or n > best[1]:
                best = (k - (n - 1) * period, n)
        else:
            n = 0
        k += period
    if best is None:
        return None
    origin, count = best
    if content[origin + (count - 1) * period + size : origin + (count - 1) * period + size + sep].any():
        return None  # content right after the last tile: not a separator
    return Lattice(origin, count, zoom)


def _separators_white(gray: np.ndarray, rows: Lattice, cols: Lattice) -> bool:
    """Every pixel of the grid outside its tiles (the separators and the outer border) is white."""
    sep = PAD * rows.zoom
    y0, x0 = rows.origin - sep, cols.origin - sep
    y1, x1 = rows.origin + rows.count * rows.period, cols.origin + cols.count * cols.period
    if y0 < 0 or x0 < 0 or y1 > gray.shape[0] or x1 > gray.shape[1]:
        return False
    region = gray[y0:y1, x0:x1]
    in_tile_y = ((np.arange(y1 - y0) - sep) % rows.period) < rows.size
    in_tile_x = ((np.arange(x1 - x0) - sep) % cols.period) < cols.size
    in_tile_y[:sep] = in_tile_x[:sep] = False
    separators = ~(in_tile_y[:, None] & in_tile_x[None, :])
    return bool((region[separators] >= WHITE).all())


def find_lattices(gray: np.ndarray) -> tuple[Lattice, Lattice]:
    """The (rows, cols) lattices of the grid in a grayscale image in [0, 1]; LayoutError if none."""
    dark = gray < WHITE
    if not dark.any():
        raise LayoutError("the image is blank: no tiles")
    col_content, row_content = _content(dark.sum(axis=0)), _content(dark.sum(axis=1))
    found = []
    for zoom in range(1, MAX_ZOOM + 1):
        rows, cols = _lattice(row_content, zoom), _lattice(col_content, zoom)
        if rows and cols and _separators_white(gray, rows, cols):
            found.append((rows.count * cols.count, rows, cols))
    if not found:
        raise LayoutError(
            "no grid of 28x28 tiles with white separators (torchvision make_grid at an integer zoom) was found"
        )
    _, rows, cols = max(found, key=lambda f: f[0])
    return rows, cols


def extract(gray: np.ndarray, rows: Lattice, cols: Lattice) -> np.ndarray:
    """(rows, cols, 28, 28) tiles, each zoomed block averaged back to one pixel."""
    z = rows.zoom
    out = np.empty((rows.count, cols.count, TILE, TILE), dtype=np.float64)
    for i in range(rows.count):
        for j in range(cols.count):
            y, x = rows.origin + i * rows.period, cols.origin + j * cols.period
            block = gray[y : y + rows.size, x : x + cols.size]
            out[i, j] = block.reshape(TILE, z, TILE, z).mean(axis=(1, 3))
    return out


def find_tiles(gray: np.ndarray) -> np.ndarray:
    """The tiles of a make_grid image, found from the image: a (rows, cols, 28, 28) array in [0, 1]."""
    return extract(gray, *find_lattices(gray))


def expect_layout(tiles: np.ndarray, rows: int, cols: int) -> None:
    """LayoutError naming what was found when the grid is not rows x cols tiles."""
    found = tiles.shape[:2]
    if found != (rows, cols):
        raise LayoutError(f"found {found[0]} rows x {found[1]} columns of tiles, expected {rows} x {cols}")
