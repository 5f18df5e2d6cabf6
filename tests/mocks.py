"""Mock UNets used on purpose to probe the diffusion math: they record what they are given
and answer with a known function, so every formula can be checked exactly."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Answer = Callable[[torch.Tensor, "torch.Tensor | None", torch.Tensor], torch.Tensor]


class RecordingUNet(nn.Module):
    """Accepts (x, t) and (x, c, t, mask=None); t may be (N,) or (N, 1). Records every call."""

    def __init__(self, answer: Answer | None = None) -> None:
        super().__init__()
        self.answer = answer or (lambda x, c, t: torch.zeros_like(x))
        self.calls: list[dict[str, torch.Tensor | None]] = []

    def forward(self, x: torch.Tensor, *args: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        c, t = (None, args[0]) if len(args) == 1 else args
        t = t.reshape(-1)
        if c is not None and mask is not None:
            c = c * mask.reshape(-1, 1)
        self.calls.append({"x": x.clone(), "c": None if c is None else c.clone(), "t": t.clone()})
        return self.answer(x, c, t)
