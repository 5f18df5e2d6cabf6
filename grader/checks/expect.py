"""Comparisons that fail with a message written for the student: what was expected, what
came back, where they differ most, and which known mistake (if any) the answer matches."""

from __future__ import annotations

from typing import Any

import torch

RTOL, ATOL = 1e-4, 1e-5
# The reverse step at t = 0 divides by 1 - alpha_bar_0 = beta_0 = 1e-4: in float32 a right formula
# written another way (through an estimate of x0) differs there by up to about 1e-3 relative.
T0_TOL = {"rtol": 2e-3, "atol": 2e-4}
MATCHES = "your answer matches a known mistake: "


class Mismatch(AssertionError):
    """A wrong answer, as data: `what` was checked, `detail` says what was expected and what came,
    `mistake` names the known mistake the answer matches (misconceptions.py), `hint` is the text
    shown for it (by default "your answer matches a known mistake: <mistake>")."""

    def __init__(self, what: str, detail: str, hint: str | None = None, mistake: str | None = None) -> None:
        self.what, self.detail, self.mistake = what, detail, mistake
        self.hint = hint if hint is not None or mistake is None else MATCHES + mistake
        super().__init__(f"{what}\n{detail}" if detail else what)


def describe(value: Any, items: int = 4, start: int = 0) -> str:
    """A short text for a value; a tensor shows `items` entries of its flattened values from `start`."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().reshape(-1)[start:start + items].tolist()
        nums = ", ".join(f"{v:.5g}" if isinstance(v, float) else str(v) for v in flat)
        more = ", ..." if value.numel() > start + items else ""
        first = "..., " if start > 0 else ""
        where = f" (from flat entry {start})" if start > 0 else ""
        return f"tensor{tuple(value.shape)} {str(value.dtype).replace('torch.', '')} [{first}{nums}{more}]{where}"
    text = _brief(value, 3)
    return text if len(text) < 200 else text[:200] + "..."


def _brief(value: Any, depth: int) -> str:
    """A short text for a value that came from the student's side: never a full repr, which a
    long string, a huge int or a long container could make large or slow."""
    if isinstance(value, str):
        return repr(value[:100]) + ("..." if len(value) > 100 else "")
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return repr(value) if abs(value) < 10**30 else f"<an int of {value.bit_length()} bits>"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, torch.Tensor):
        return describe(value)
    if isinstance(value, (list, tuple, dict)):
        if depth <= 0:
            return f"<{type(value).__name__} of {len(value)}>"
        items = list(value.items())[:4] if isinstance(value, dict) else list(value)[:4]
        parts = [f"{_brief(k, depth - 1)}: {_brief(v, depth - 1)}" for k, v in items] if isinstance(value, dict) \
            else [_brief(v, depth - 1) for v in items]
        more = ", ..." if len(value) > 4 else ""
        brackets = "{}" if isinstance(value, dict) else "()" if isinstance(value, tuple) else "[]"
        return brackets[0] + ", ".join(parts) + more + brackets[1]
    return f"<{type(value).__name__}>"


def matching_mistake(got: torch.Tensor, wrong: dict[str, torch.Tensor] | None, rtol: float, atol: float) -> str | None:
    for label, candidate in (wrong or {}).items():
        candidate = torch.as_tensor(candidate)
        same_shape = candidate.shape == got.shape
        if same_shape and torch.allclose(got.to(torch.float64), candidate.to(torch.float64), rtol, atol):
            return label
    return None



def expect_tensor(got: Any, what: str, shape: tuple[int, ...] | None = None, wrong: dict | None = None) -> torch.Tensor:
    """got is a finite tensor (of the given shape)."""
    if not isinstance(got, torch.Tensor):
        raise Mismatch(what, f"expected a tensor, got {describe(got)}")
    if shape is not None and tuple(got.shape) != tuple(shape):
        mistake = matching_mistake(got, wrong, RTOL, ATOL)
        raise Mismatch(what, f"expected shape {tuple(shape)}, got shape {tuple(got.shape)}", mistake=mistake)
    if got.is_floating_point() and not torch.isfinite(got).all():
        bad = int((~torch.isfinite(got)).sum())
        kinds = [k for k, f in (("NaN", torch.isnan), ("inf", torch.isinf)) if f(got).any()]
        raise Mismatch(what, f"the result contains {' and '.join(kinds)} in {bad} of {got.numel()} entries")
    return got


def expect_close(
    got: Any,
    expected: torch.Tensor,
    what: str,
    wrong: dict[str, torch.Tensor] | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    expected = torch.as_tensor(expected)
    got = expect_tensor(got, what, tuple(expected.shape), wrong)
    g, e = got.to(torch.float64), expected.to(torch.float64)
    if torch.allclose(g, e, rtol, atol):
        return
    diff = (g - e).abs()
    worst = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape)) if diff.dim() else ()
    shown = expected.to(got.dtype) if got.is_floating_point() else expected  # the grader computes in float64
    # Where the first entries read the same, show the entries around the largest difference instead.
    start = 0 if describe(shown) != describe(got) else max(0, int(diff.reshape(-1).argmax()) - 1)
    detail = (
        f"  expected: {describe(shown, start=start)}\n  got:      {describe(got, start=start)}\n"
        f"  largest difference {diff.max().item():.4g}" + (f" at index {worst}" if worst else "")
    )
    raise Mismatch(what, detail, mistake=matching_mistake(got, wrong, rtol, atol))


def expect_scalar(
    got: Any, expected: float | torch.Tensor, what: str, wrong: dict | None = None, rtol: float = RTOL
) -> None:
    """A scalar (a 0-d or 1-element tensor, or a number) close to expected."""
    if isinstance(got, (int, float)):
        got = torch.tensor(float(got))
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.reshape(())
    else:
        raise Mismatch(what, f"expected a scalar loss, got {describe(got)}")
    expect_close(got, torch.as_tensor(expected, dtype=torch.float64).reshape(()), what, wrong, rtol=rtol, atol=1e-7)


def expect_true(condition: bool, what: str, detail: str = "", hint: str | None = None) -> None:
    if not condition:
        raise Mismatch(what, detail, hint)


def expect_one_of(got: Any, accepted: dict[str, torch.Tensor], what: str, wrong: dict[str, torch.Tensor] | None = None,
                  rtol: float = RTOL, atol: float = ATOL) -> str:
    """`got` close to one of several answers a course accepts (label -> expected); returns the label it
    matched. Otherwise the Mismatch against the first, naming a known mistake when one matches."""
    first = None
    for label, expected in accepted.items():
        try:
            expect_close(got, expected, f"{what} ({label})", wrong, rtol, atol)
            return label
        except Mismatch as exc:
            first = first or exc
    assert first is not None, "expect_one_of needs at least one accepted answer"
    raise first
