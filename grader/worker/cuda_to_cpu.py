"""Course code written for Colab says `device="cuda"`, `.cuda()` and `.to("cuda")` where the grader
has no GPU. On a CPU grading the worker maps those requests to the CPU (for course dialects, whose
handouts hard-code CUDA), so that the code is graded on what it computes, not on where it was written."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

FACTORIES = ("randn", "rand", "randint", "zeros", "ones", "full", "empty", "arange", "linspace", "tensor",
             "as_tensor", "randn_like", "rand_like", "zeros_like", "ones_like", "full_like", "empty_like", "eye")


def _cpu(device: Any) -> Any:
    if isinstance(device, torch.device):
        return torch.device("cpu") if device.type == "cuda" else device
    if isinstance(device, str) and device.split(":")[0] == "cuda":
        return "cpu"
    if isinstance(device, int) and not isinstance(device, bool):  # .to(0), .cuda(0)
        return "cpu"
    return device


def _mapped(fn: Callable[..., Any], positional: bool) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if "device" in kwargs:
            kwargs["device"] = _cpu(kwargs["device"])
        if positional and len(args) > 1:  # x.to("cuda"), module.to(torch.device("cuda"))
            args = (args[0], _cpu(args[1]), *args[2:])
        return fn(*args, **kwargs)

    return call


def install() -> None:
    """Map CUDA device requests to the CPU in this process (the worker's; once)."""
    if getattr(torch, "_grader_cuda_to_cpu", False):
        return
    torch._grader_cuda_to_cpu = True
    for name in FACTORIES:
        if hasattr(torch, name):
            setattr(torch, name, _mapped(getattr(torch, name), positional=False))
    torch.Tensor.to = _mapped(torch.Tensor.to, positional=True)
    nn.Module.to = _mapped(nn.Module.to, positional=True)
    torch.Tensor.cuda = lambda self, *a, **k: self
    nn.Module.cuda = lambda self, *a, **k: self
    torch.cuda.is_available = lambda: False
