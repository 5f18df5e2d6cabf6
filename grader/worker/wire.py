"""The wire format between the grader and a worker: length-prefixed `torch.save` payloads.

Both directions are read with `torch.load(..., weights_only=True)`, so only tensors,
numbers, strings, None and containers of them can cross: nothing executable. Values a
student function returns are converted with `to_wire` first (objects become a short
description).
"""

from __future__ import annotations

import io
import os
import struct
from typing import Any

import torch

HEADER = struct.Struct(">Q")
MAX_MESSAGE = 512 << 20  # a response larger than this is refused (a runaway tensor)
MOCK = "__mock__"  # marks a dict that the worker turns into a mock UNet
MAX_ITEMS = 10_000
MAX_DEPTH = 8
MAX_WALK = 100_000


def encode(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def decode(data: bytes) -> Any:
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def send(fd: int, obj: Any) -> None:
    data = encode(obj)
    view = memoryview(HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def read_exact(fd: int, n: int) -> bytes:
    """Blocking read of exactly n bytes (the worker side; the grader reads with a deadline)."""
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the pipe")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(fd: int) -> Any:
    (size,) = HEADER.unpack(read_exact(fd, HEADER.size))
    if size > MAX_MESSAGE:
        raise ValueError(f"message of {size} bytes is larger than the limit")
    return decode(read_exact(fd, size))


def to_wire(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """A student's return value as plain data: CPU tensors, numbers, strings and containers, with at
    most MAX_DEPTH levels and MAX_WALK containers' items in all (shared references count each time)."""
    budget = [MAX_WALK] if budget is None else budget
    if depth > MAX_DEPTH:
        return "<nested too deeply>"
    if isinstance(value, torch.Tensor):
        # as_subclass drops any Tensor subclass: only plain tensors are allowed back.
        return value.detach().to("cpu").contiguous().as_subclass(torch.Tensor).clone()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Size):
        return tuple(int(v) for v in value)
    if isinstance(value, (torch.dtype, torch.device)):
        return str(value)
    if isinstance(value, (list, tuple, dict)):
        if budget[0] <= 0:
            return "<too large>"
        entries = list(value.items() if isinstance(value, dict) else value)[:min(MAX_ITEMS, budget[0])]
        budget[0] -= len(entries)
        if isinstance(value, dict):
            return {str(k): to_wire(v, depth + 1, budget) for k, v in entries}
        items = [to_wire(v, depth + 1, budget) for v in entries]
        return tuple(items) if isinstance(value, tuple) else items
    if hasattr(value, "__array__") and hasattr(value, "dtype"):
        try:  # numpy arrays and scalars
            return torch.as_tensor(value.__array__())
        except Exception:
            pass
    return f"<object of type {type(value).__name__}>"


def first_device(value: Any, depth: int = 0, budget: list[int] | None = None) -> str | None:
    """The device of the first tensor in a (possibly nested) value, before it goes to the CPU
    (looking at no more than MAX_WALK items, MAX_DEPTH levels deep, as to_wire)."""
    budget = [MAX_WALK] if budget is None else budget
    if isinstance(value, torch.Tensor):
        return str(value.device)
    if isinstance(value, (list, tuple)) and depth <= MAX_DEPTH:
        for v in value:
            budget[0] -= 1
            if budget[0] < 0:
                return None
            found = first_device(v, depth + 1, budget)
            if found:
                return found
    return None
