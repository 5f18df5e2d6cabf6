"""Checks on how the student's code called a mock UNet (the records it sends back)."""

from __future__ import annotations

import torch

from ..sandbox.student import Record
from .expect import Mismatch, expect_close, expect_true


def first_call(records: list[Record], what: str) -> Record:
    if not records:
        raise Mismatch(what, "  the UNet was never called")
    return records[0]


def expect_time(rec: Record, t: torch.Tensor, num_ts: int, what: str) -> None:
    """The UNet received t / T (as (N,) or (N, 1)), not the integer t or another scaling."""
    t = t.double()
    expect_close(rec.t, t / num_ts, what, {
        "the integer t: the UNet gets the normalised time t / T": t,
        "t / (T - 1) instead of t / T": t / (num_ts - 1),
        "(t + 1) / T instead of t / T": (t + 1) / num_ts,
    }, atol=1e-6)


def dropout_rate(records: list[Record], c: torch.Tensor, what: str) -> float:
    """The fraction of rows of c the UNet received as all zeros (c repeated over the calls);
    every row must be either the one-hot class or all zeros."""
    expect_true(len(records) > 0, what, "  the UNet was never called")
    seen = torch.cat([r.c for r in records if r.c is not None]) if any(r.c is not None for r in records) else None
    expect_true(seen is not None, what, "  the UNet never received c")
    full = c.repeat(len(seen) // len(c), 1)
    zero = (seen.abs().sum(1) == 0)
    kept = (seen - full).abs().sum(1) < 1e-6
    expect_true(bool((zero | kept).all()), what,
                "  some rows of c are neither the one-hot class nor all zeros",
                "drop whole rows of c (multiply each row by 0 or 1); F.dropout zeroes single entries and rescales "
                "the others")
    return zero.double().mean().item()


def dropout_hint(rate: float, p_uncond: float) -> str | None:
    """Name the class-dropout mistake a measured drop rate matches (4096 draws: 0.05 is ~10 sigma)."""
    if rate < 0.005:
        return "the class is never dropped: zero each row of c with probability p_uncond (class_dropout)"
    if rate > 0.995:
        return "the class is always dropped: zero a row only with probability p_uncond"
    if abs(rate - (1 - p_uncond)) < 0.05 and abs(p_uncond - 0.5) > 0.1:
        return "rows are kept with probability p_uncond: the mask is inverted, drop a row when rand < p_uncond"
    return None
