"""Mock UNets that record how the student's code calls them.

A mock answers with a simple closed form, `eps(x, t, c) = a x + b t + k (c . w)` with
w = (1 .. K) / K, so the grader can recompute every expected value exactly (it imports
`mock_output` too). It accepts every calling convention the contract allows: `(x, t)`,
`(x, c, t)`, `(x, c, t, mask)`, with t of shape (), (N,), (N, 1) or (N, 1, 1, 1).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

DEFAULTS: dict[str, Any] = {"a": 0.5, "b": 0.7, "k": 0.3, "record_x": True, "max_records": 4000, "needs_t": True}


def mock_output(
    x: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None, a: float, b: float, k: float
) -> torch.Tensor:
    """The mock's answer; t is one value per sample (N,), c is (N, K) or None."""
    col = (-1,) + (1,) * (x.dim() - 1)
    out = a * x + b * t.to(x.dtype).reshape(col)
    if c is not None:
        w = torch.arange(1, c.shape[1] + 1, dtype=x.dtype, device=x.device) / c.shape[1]
        out = out + k * (c.to(x.dtype) @ w).reshape(col)
    return out


def _per_sample(t: Any, x: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t, device=x.device)
    n = x.shape[0]
    if t.dim() == 0:
        return t.expand(n)
    if t.shape[0] == n and t.numel() == n:  # (N,), (N, 1), (N, 1, 1, 1)
        return t.reshape(n)
    raise ValueError(
        f"the UNet was called with t of shape {tuple(t.shape)} for a batch of {n}: "
        "pass the normalised time t / T as (N,) or (N, 1)"
    )


class MockUNet(nn.Module):
    """Records (x, t, c) of every call; `records` is sent back to the grader."""

    def __init__(
        self, a: float, b: float, k: float, record_x: bool = True, max_records: int = 4000, needs_t: bool = True
    ) -> None:
        super().__init__()
        self.a, self.b, self.k = a, b, k
        self.needs_t = needs_t  # False: an UnconditionalUNet, called as unet(x); t is then 0
        self.record_x = record_x
        self.max_records = max_records
        # One parameter, so code that looks up the model's device (next(unet.parameters())) works.
        self.anchor = nn.Parameter(torch.zeros(()))
        self.records: list[dict[str, Any]] = []

    def forward(self, x: torch.Tensor, *rest: Any, **kw: Any) -> torch.Tensor:
        c, t, mask = kw.pop("c", None), kw.pop("t", None), kw.pop("mask", None)
        if kw:
            raise TypeError(f"the UNet got unexpected keyword arguments {sorted(kw)}")
        if len(rest) == 1:
            t = rest[0]
        elif len(rest) in (2, 3):
            c, t = rest[0], rest[1]
            mask = rest[2] if len(rest) == 3 else mask
        elif rest:
            raise TypeError(f"the UNet takes (x, t) or (x, c, t[, mask]), got {1 + len(rest)} arguments")
        if t is None and not self.needs_t:
            t = torch.zeros(())
        if t is None:
            raise TypeError("the UNet was called without t")
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"the UNet was called with x of shape {got}: expected shape (N, C, H, W)")
        raw_t = torch.as_tensor(t)
        t_vec = _per_sample(t, x)
        if c is not None:
            c = torch.as_tensor(c, device=x.device)
            if c.dim() != 2 or c.shape[0] != x.shape[0]:
                raise ValueError(f"the UNet expects c of shape (N, K), got {tuple(c.shape)} for N = {x.shape[0]}")
            if mask is not None:
                c = c * torch.as_tensor(mask, device=x.device).to(c.dtype).reshape(-1, 1)
        self._record(x, raw_t, t_vec, c)
        return mock_output(x, t_vec, c, self.a, self.b, self.k) + 0 * self.anchor

    def _record(self, x: torch.Tensor, raw_t: torch.Tensor, t_vec: torch.Tensor, c: Any) -> None:
        if len(self.records) >= self.max_records:
            return
        keep_x = self.record_x and len(self.records) < self.max_records // 4
        self.records.append(
            {
                "x": x.detach().cpu().clone() if keep_x else None,
                "t": t_vec.detach().to("cpu", torch.float64),
                "t_shape": tuple(raw_t.shape),
                "t_dtype": str(raw_t.dtype),
                "c": None if c is None else c.detach().to("cpu").clone(),
                "n": int(x.shape[0]),
            }
        )


def make_mock(spec: dict[str, Any], device: torch.device | str) -> MockUNet:
    params = {**DEFAULTS, **spec}
    return MockUNet(**params).to(device)
