"""Adapters: the contract's calls (the ones the grader's probes make) answered through a course's own
API. One module per dialect; each defines PROVIDES (the contract modules it stands in for) and
`Adapter(find, device, via)`, whose `module(name)` returns an object with the contract's names.
An adapter runs in the worker, so it is the student's as much as the rest of the worker: it only
translates calls, and every verdict is still computed by the grader from what comes back."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch


class BaseAdapter:
    """What every adapter does: find the course's names (in its usual modules, `WHERE`, first) and note the
    course's calls it makes, which the report shows under a failed test."""

    WHERE: tuple[str, ...] = ()

    def __init__(self, find: Callable[[str, tuple[str, ...]], Any], device: torch.device, via: list[str]) -> None:
        self._find, self.device, self.via = find, device, via

    def find(self, name: str) -> Any:
        return self._find(name, self.WHERE)

    def note(self, text: str) -> None:
        if text not in self.via:
            self.via.append(text)


def _shape(size: tuple[Any, ...]) -> tuple[int, ...]:
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) else tuple(size)


@contextlib.contextmanager
def fixed_draws(noise: torch.Tensor | None, t: torch.Tensor | None = None) -> Iterator[None]:
    """While the course's code runs, the grader's own random values answer its draws: torch.randn_like /
    torch.randn of `noise`'s shape give `noise` (a seeded torch.randn with its own generator draws as usual),
    and the first torch.rand of one value per sample gives `t`. Other draws are left alone."""
    if noise is None and t is None:
        yield
        return
    randn_like, randn, rand = torch.randn_like, torch.randn, torch.rand
    left = [t]

    def fixed_like(x: torch.Tensor, *a: Any, **k: Any) -> torch.Tensor:
        if noise is not None and tuple(x.shape) == tuple(noise.shape):
            return noise.to(x.device, x.dtype).clone()
        return randn_like(x, *a, **k)

    def fixed_randn(*size: Any, **k: Any) -> torch.Tensor:
        if noise is not None and _shape(size) == tuple(noise.shape) and "generator" not in k:
            return noise.to(k.get("device") or noise.device, k.get("dtype") or noise.dtype).clone()
        return randn(*size, **k)

    def fixed_rand(*size: Any, **k: Any) -> torch.Tensor:
        shape = _shape(size)
        count = 1
        for n in shape:
            count *= int(n)
        if left[0] is not None and count == left[0].numel():
            value, left[0] = left[0], None
            return value.reshape(shape).to(k.get("device") or value.device, k.get("dtype") or value.dtype).clone()
        return rand(*size, **k)

    torch.randn_like, torch.randn, torch.rand = fixed_like, fixed_randn, fixed_rand
    try:
        yield
    finally:
        torch.randn_like, torch.randn, torch.rand = randn_like, randn, rand
