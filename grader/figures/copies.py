"""Are these tiles MNIST images? A grid of samples must show what a model generated, so each tile
is compared with all 70,000 MNIST digits (train and test), two ways:

- `rms`: the RMS pixel difference to the nearest digit (a copy is within a rounding error);
- `similarity`: the highest correlation with any digit once both are blurred (3x3) and the tile is
  moved by up to 2 pixels each way: a shifted, blurred, rescaled or lightly noised copy stays above
  0.975, while the reference's samples reach it for a few tiles in a hundred.

The search is coarse to fine: a blurred 7x7 view of the tile, moved by 0 or 2 pixels each way,
against every digit keeps 16 candidates per move; the candidates are then compared at full
resolution, with every shift.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

SHIFTS = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]
COARSE_SHIFTS = [(dy, dx) for dy in (-2, 0, 2) for dx in (-2, 0, 2)]  # a blurred 7x7 view forgives a pixel
CANDIDATES = 16  # kept per coarse shift


def _unit(x: torch.Tensor) -> torch.Tensor:
    """Rows centred and scaled to length 1, in place: their dot product is a correlation."""
    x -= x.mean(1, keepdim=True)
    return x.div_(x.norm(dim=1, keepdim=True).clamp_(min=1e-6))


def _blur(x: torch.Tensor) -> torch.Tensor:
    """(n, 28, 28) -> (n, 784), a 3x3 box blur."""
    return F.avg_pool2d(x[:, None], 3, 1, 1, count_include_pad=False).flatten(1)


def _coarse(blurred: torch.Tensor) -> torch.Tensor:
    """(n, 784) blurred images -> (n, 49): their 4x4 means."""
    return F.avg_pool2d(blurred.reshape(-1, 1, 28, 28), 4).flatten(1)


@lru_cache(maxsize=1)
def _mnist() -> dict[str, Any]:
    from .. import data

    images = torch.cat([data.mnist_uint8(train=True)[0], data.mnist_uint8(train=False)[0]])[:, 0].float() / 255.0
    flat = images.flatten(1)
    blurred = _blur(images)
    coarse = _unit(_coarse(blurred))
    return {"flat": flat, "sq": (flat**2).sum(1), "fine": _unit(blurred), "coarse": coarse}


def nearest_mnist(tiles: np.ndarray) -> dict[str, np.ndarray]:
    """Per tile (tiles: (..., 28, 28) in [0, 1]): {"rms": ..., "similarity": ...} as the module says."""
    pool = _mnist()
    x = torch.as_tensor(tiles.reshape(-1, 28, 28), dtype=torch.float32)
    flat = x.flatten(1)
    d = (flat**2).sum(1, keepdim=True) - 2 * flat @ pool["flat"].T + pool["sq"]
    rms = (d.min(1).values.clamp(min=0) / (28 * 28)).sqrt()

    coarse = [_unit(_coarse(_blur(torch.roll(x, s, dims=(1, 2))))) for s in COARSE_SHIFTS]  # borders are 0
    found = [(c @ pool["coarse"].T).topk(CANDIDATES, dim=1).indices for c in coarse]
    candidates = torch.cat(found, dim=1)  # (n, coarse shifts * CANDIDATES)
    moved = torch.stack([torch.roll(x, s, dims=(1, 2)) for s in SHIFTS])  # (shifts, n, 28, 28)
    fine = torch.stack([_unit(_blur(m)) for m in moved])  # (shifts, n, 784)
    sims = torch.einsum("snd,nkd->snk", fine, pool["fine"][candidates])
    similarity = sims.amax(dim=(0, 2))
    shape = tiles.shape[:-2]
    return {"rms": rms.numpy().reshape(shape), "similarity": similarity.numpy().reshape(shape)}
