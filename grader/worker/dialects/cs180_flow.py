"""CS180 flow matching (Spring / Fall 2025 Project 5B): the contract's flow calls answered by the
course's notebook, whose UNets are Fall 2024's with a product time modulation.

    contract                                    the course (what is called)
    unet.*                                      as for cs180-fa24-ddpm (grader/worker/dialects/cs180_fa24.py)
    fm_forward(unet, x1, T, noise=x0, t=t)      the time-only fm_forward (the first definition without c), with
                                                torch.randn_like / randn answering x0 and the first torch.rand
                                                of one value per sample answering t
    fm_forward(..., c=c, p_uncond=p)            the class one: fm_forward(unet, x_1, labels, p, T)
    fm_sample(unet, hw, T, seed, num_samples)   the time-only sampler, N by its own argument or a global
    fm_sample(..., c=c, guidance_scale=g)       fm_sample(unet, labels, img_wh, T, g, seed)

Arguments are matched by the names the course and students give them; a notebook's redefinitions are
kept in cell order, and an earlier one runs with the names of its time.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from . import fixed_draws
from .cs180_fa24 import ROLES, Failure, UNets, _as_of, _batch_of, _call, _has, _params
from .cs180_fa24 import Adapter as Fa24Adapter
from .cs180_fa24 import Diffusion as Fa24Diffusion

PROVIDES = ("unet", "flow")
FLOW_ROLES = {**ROLES, "x0": (), "x1": ("x_1", "x1", "x", "images", "x_data", "data"),
              "num_samples": ("num_samples", "batch_size", "n_samples", "n", "N"), "device": ("device",)}


class Adapter(Fa24Adapter):
    def module(self, name: str) -> Any:
        return UNets(self) if name == "unet" else Flow(self)


class Flow(Fa24Diffusion):
    def _pick(self, names: tuple[str, ...], classes: bool, what: str) -> tuple[int, Any]:
        defs = [(n, f) for n, f in self.a.definitions(*names) if _has(f, "c", FLOW_ROLES) == classes]
        if not defs:
            raise Failure("missing", f"no {'class-conditioned' if classes else 'time-only'} {what} is defined "
                          f"(a {what} {'with' if classes else 'without'} a c argument)", name=what)
        return defs[-1] if classes else defs[0]

    def fm_forward(self, unet: nn.Module, x1: torch.Tensor, num_ts: int, c: Any = None, p_uncond: float = 0.1,
                   noise: torch.Tensor | None = None, t: torch.Tensor | None = None) -> Any:
        classes = c is not None
        cell, fn = self._pick(("fm_forward", "fm_forward_class", "flow_forward"), classes, "fm_forward")
        values = {"unet": self._unet(unet) if classes else unet, "x1": x1, "num_ts": num_ts, "device": x1.device}
        if classes:
            values.update(c=self._classes(c), p_uncond=p_uncond)
        fixed = " with the grader's x0 and t as its random draws" if noise is not None or t is not None else ""
        self.a.note(f"{fn.__name__}({', '.join(p.name for p in _params(fn))}){fixed}"
                    + (f" (the definition of cell {cell})" if cell else ""))
        with _as_of(fn, cell), fixed_draws(noise, None if t is None else torch.as_tensor(t).to(x1.device)):
            return _call(fn, values, FLOW_ROLES)

    def fm_sample(self, unet: nn.Module, img_wh: tuple[int, int], num_ts: int, seed: int = 0, c: Any = None,
                  guidance_scale: float = 5.0, num_samples: int | None = None, frame_every: int | None = None) -> Any:
        if frame_every is not None:
            raise Failure("dialect", "the course's fm_sample is not probed for GIF frames")
        classes = c is not None
        cell, fn = self._pick(("fm_sample", "fm_sample_class", "flow_sample"), classes, "fm_sample")
        n = len(c) if classes else (1 if num_samples is None else int(num_samples))
        values = {"unet": self._unet(unet) if classes else unet, "img_wh": tuple(img_wh), "num_ts": num_ts,
                  "seed": seed, "num_samples": n, "device": self.a.device}
        if classes:
            values.update(c=self._classes(c), guidance_scale=guidance_scale)
        self.a.note(f"{fn.__name__}({', '.join(p.name for p in _params(fn))}) for {n} samples"
                    + (f" (the definition of cell {cell})" if cell else ""))
        with _as_of(fn, cell), _batch_of(fn, n):
            out = _call(fn, values, FLOW_ROLES)
        return out[0] if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor) else out
