"""CS180 Fall 2024 Project 5B: the contract's calls answered by the staff notebook's API.

    contract                                   CS180 (what is called)
    unet.ClassConditionalUNet(...)(x, c, t)    the student's class, fed c as int64 labels and a mask (N,)
                                               (a one-hot row of zeros is a masked row), t as (N, 1)
    unet.TimeConditionalUNet(...)(x, t)        the student's class, t as (N, 1); without num_classes if its
                                               constructor has none
    ddpm_schedule(b1, b2, T)                   the same; keys read by role (d_betas, alphas_cumprod, ...)
    ddpm_forward(unet, sched, x0, T)           the time-only ddpm_forward (the first definition without c)
    ddpm_forward(..., c=c, p_uncond=p)         the class one: ddpm_forward(unet, sched, x_0, labels, p, T)
                                               (one-hot c where the student's UNet takes no mask)
    ddpm_sample(unet, sched, hw, T, seed, ...) the time-only sampler, N set through a global batch_size;
                                               with c, ddpm_sample(unet, sched, labels, hw, T, g, seed);
                                               a (sample, caches) tuple gives its sample
    DDPM(unet, num_ts=...).forward(x0)         the time-only DDPM

A notebook keeps every definition of a name in cell order (grader's `_DEFINITIONS`); a call of an
earlier one runs with the notebook's names as they were when it was defined, so the time-only DDPM
still calls the time-only ddpm_forward. The schedule handed to the course's functions carries the
grader's values under the student's own key names.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from ..failures import StudentFailure as Failure
from . import BaseAdapter

PROVIDES = ("unet", "schedules", "diffusion")
WHERE = ("_notebook", "unet", "diffusion", "ddpm", "model", "models")
ROLES = {  # argument roles by the names courses and students give them
    "unet": ("unet", "model", "net", "denoiser"), "sched": ("ddpm_schedule", "sched", "schedule", "ddpm_sched"),
    "x0": ("x_0", "x0", "x", "x_zero", "images"), "num_ts": ("num_ts", "T", "timesteps", "n_steps", "num_steps"),
    "c": ("c", "labels", "label", "classes", "y", "class_labels"), "p_uncond": ("p_uncond", "p"),
    "img_wh": ("img_wh", "img_size", "image_size", "shape", "hw"), "seed": ("seed",),
    "guidance_scale": ("guidance_scale", "gamma", "cfg_scale", "w", "scale"),
    "t": ("t", "time", "ts", "timestep", "timesteps"), "mask": ("mask",),
}
BATCH_GLOBALS = ("batch_size", "num_samples", "n_samples", "N")


def _role(name: str, roles: dict[str, tuple[str, ...]] = ROLES) -> str | None:
    return next((role for role, names in roles.items() if name in names), None)


def _params(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        return [p for p in inspect.signature(fn).parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def _call(fn: Callable[..., Any], values: dict[str, Any], roles: dict[str, tuple[str, ...]] = ROLES) -> Any:
    """Call with each parameter given the value of its role, in the function's own order; parameters of
    no known role keep their defaults (or get None when required)."""
    args, kwargs, positional = [], {}, True
    for p in _params(fn):
        role = _role(p.name, roles)
        if role in values:
            value = values[role]
        elif p.default is not p.empty:
            positional = False
            continue
        else:
            value = None
        if positional and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(value)
        else:
            kwargs[p.name] = value
    return fn(*args, **kwargs)


def _labels(c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The contract's one-hot c (a row of zeros: no class) as the course's int64 labels and a mask (N,)."""
    c = torch.as_tensor(c)
    return c.argmax(1).long(), (c.abs().sum(1) > 0).to(c.dtype)


class Labels(nn.Module):
    """The grader's UNet as the course calls it: unet(x, c, t, mask) with c int64 labels, made one-hot; or in
    the order of the student's own ClassConditionalUNet.forward (`roles`, e.g. ["t", "c"])."""

    def __init__(self, unet: nn.Module, num_classes: int = 10, roles: list[str] | None = None) -> None:
        super().__init__()
        self.unet, self.num_classes, self.roles = unet, num_classes, roles

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self.roles and self.roles[:2] != ["c", "t"] and len(args) <= len(self.roles):
            named = {role: self._one_hot(a) for role, a in zip(self.roles, args, strict=False)}
            named.update({_role(k) or k: self._one_hot(v) if _role(k) == "c" else v for k, v in kwargs.items()})
            return self.unet(x, **{k: named[k] for k in ("c", "t", "mask") if k in named})
        args = tuple(self._one_hot(a) for a in args)
        kwargs = {k: self._one_hot(v) if k in ROLES["c"] else v for k, v in kwargs.items()}
        if "c" not in kwargs:
            for alias in ROLES["c"][1:]:
                if alias in kwargs:
                    kwargs["c"] = kwargs.pop(alias)
        return self.unet(x, *args, **kwargs)

    def _one_hot(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.dim() == 1 and not value.is_floating_point():
            return nn.functional.one_hot(value.long(), self.num_classes).float()
        return value


class Adapter(BaseAdapter):
    WHERE = WHERE

    def module(self, name: str) -> Any:
        return {"unet": UNets, "schedules": Schedules, "diffusion": Diffusion}[name](self)

    def definitions(self, *names: str) -> list[tuple[int, Any]]:
        """Every definition of the names, in cell order (a module's single one counts as cell 0)."""
        found: list[tuple[int, Any]] = []
        for name in names:
            try:
                obj = self.find(name)
            except Failure:
                continue
            kept = _globals(obj).get("_DEFINITIONS")
            found += list(kept.get(name, [])) if kept and name in kept else [(0, obj)]
        if not found:
            raise Failure("missing", f"the submission defines none of {', '.join(names)}", name=names[0])
        return sorted(found, key=lambda pair: pair[0])


def _module_globals(obj: Any) -> dict[str, Any]:
    module = inspect.getmodule(obj)
    return vars(module) if module is not None else {}


def _globals(obj: Any) -> dict[str, Any]:
    """The globals a student's function or class reads its names from (through decorators such as
    @torch.inference_mode(), whose wrapper lives in torch)."""
    try:
        fn = inspect.unwrap(obj)
    except ValueError:
        fn = obj
    g = getattr(fn, "__globals__", None)
    return g if isinstance(g, dict) else _module_globals(fn)


@contextlib.contextmanager
def _as_of(obj: Any, cell: int) -> Iterator[None]:
    """Run with the notebook's names as they were after cell `cell` (later redefinitions undone)."""
    g = _globals(obj)
    kept = g.get("_DEFINITIONS") or {}
    saved = {}
    for name, defs in kept.items():
        earlier = [o for n, o in defs if n <= cell]
        if earlier and g.get(name) is not earlier[-1]:
            saved[name] = g.get(name)
            g[name] = earlier[-1]
    try:
        yield
    finally:
        g.update(saved)


@contextlib.contextmanager
def _batch_of(fn: Any, n: int) -> Iterator[None]:
    """A sampler without a batch-size argument reads a global (batch_size, as the notebooks have it)."""
    g = _globals(fn)
    saved = {k: g[k] for k in BATCH_GLOBALS if k in g}
    g.update({k: n for k in saved} or {"batch_size": n})
    try:
        yield
    finally:
        for k in BATCH_GLOBALS:
            g.pop(k, None)
        g.update(saved)


def _has(fn: Any, role: str, roles: dict[str, tuple[str, ...]] = ROLES) -> bool:
    return any(_role(p.name, roles) == role for p in _params(fn))


class UNets:
    def __init__(self, adapter: Adapter) -> None:
        self.a = adapter

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        cls = self.a.find(name)
        if name == "TimeConditionalUNet":
            return _conditional(cls, classes=False)
        if name == "ClassConditionalUNet":
            return _conditional(cls, classes=True)
        two = isinstance(cls, type) and len([p for p in _params(cls) if p.default is p.empty]) == 2
        if name == "Unflatten" and two:  # Unflatten(in_channels, out_channels): the contract's has one
            return type(cls.__name__, (cls,), {"__init__": lambda self, c: cls.__init__(self, c, c)})
        return cls


def _conditional(cls: Any, classes: bool) -> Any:
    """The student's UNet class with the contract's calling convention (a subclass: same parameters)."""
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        return cls
    required = [p for p in _params(cls) if p.default is p.empty]
    forward_params = [p.name for p in _params(cls.forward)][1:]  # after self

    def __init__(self: nn.Module, in_channels: int, num_classes: int, num_hiddens: int, **kw: Any) -> None:
        if kw.get("modulation") and "modulation" not in [p.name for p in _params(cls)]:
            raise Failure("dialect", f"{cls.__name__} has one time modulation (no modulation argument)")
        if len(required) == 2:  # (in_channels, num_hiddens): the handout's num_classes is unused
            cls.__init__(self, in_channels, num_hiddens, **kw)
        else:
            cls.__init__(self, in_channels, num_classes, num_hiddens, **kw)

    def forward(self: nn.Module, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if classes:
            c, t = (args[0], args[1]) if len(args) >= 2 else (kwargs.get("c"), args[0] if args else kwargs.get("t"))
            mask = args[2] if len(args) > 2 else kwargs.get("mask")
        else:
            c, t, mask = None, args[0] if args else kwargs.get("t"), None
        t = torch.as_tensor(t, device=x.device).to(x.dtype)
        t = t.expand(len(x)).reshape(-1, 1) if t.dim() == 0 else t.reshape(len(x), -1)[:, :1]
        values: dict[str, Any] = {"t": t}
        if classes:
            c = torch.as_tensor(c, device=x.device)
            if "mask" in forward_params:  # the handout's: int64 labels, mask (N,)
                labels, keep = _labels(c)
                values["c"] = labels
                values["mask"] = keep * (torch.as_tensor(mask, device=x.device).to(keep.dtype)
                                         if mask is not None else 1)
            else:  # a one-hot c without mask: masked rows zeroed
                values["c"] = c * (torch.as_tensor(mask, device=x.device).to(c.dtype).reshape(-1, 1)
                                   if mask is not None else 1)
        ordered = [values.get(_role(p) or p) for p in forward_params if (_role(p) or p) in values]
        return cls.forward(self, x, *ordered)

    return type(cls.__name__, (cls,), {"__init__": __init__, "forward": forward, "__module__": cls.__module__})


KEYS = ("betas", "alphas", "alpha_bars")


def _key_role(key: str) -> str | None:
    k = key.lower()
    if any(w in k for w in ("sqrt", "prev", "tilde", "posterior", "one_minus", "recip", "log")):
        return None
    if "bar" in k or "cumprod" in k or k.endswith("ab"):
        return "alpha_bars"
    if "alpha" in k:
        return "alphas"
    if "beta" in k:
        return "betas"
    return None


def _derived(betas: torch.Tensor) -> dict[str, torch.Tensor]:
    alphas = 1 - betas
    bars = torch.cumprod(alphas.double(), 0).to(betas.dtype)
    prev = torch.cat([torch.ones(1, dtype=bars.dtype, device=bars.device), bars[:-1]])
    return {"betas": betas, "alphas": alphas, "alpha_bars": bars, "sqrt_alpha_bars": bars.sqrt(),
            "sqrt_one_minus_alpha_bars": (1 - bars).sqrt(), "one_minus_alpha_bars": 1 - bars,
            "sqrt_alphas": alphas.sqrt(), "recip_sqrt_alphas": 1 / alphas.sqrt(), "alpha_bars_prev": prev,
            "sqrt_betas": betas.sqrt(), "posterior_variance": betas * (1 - prev) / (1 - bars)}


class Schedules:
    def __init__(self, adapter: Adapter) -> None:
        self.a = adapter

    def ddpm_schedule(self, beta1: float = 1e-4, beta2: float = 0.02, num_ts: int = 300, **kwargs: Any) -> Any:
        if kwargs:
            raise Failure("dialect", f"CS180's ddpm_schedule takes (beta1, beta2, num_ts), not {sorted(kwargs)}")
        fn = self.a.definitions("ddpm_schedule")[-1][1]
        self.a.note(f"ddpm_schedule({beta1:g}, {beta2:g}, {num_ts})")
        got = fn(beta1, beta2, num_ts)
        if not isinstance(got, dict):
            return got
        named = dict(got)
        for key, value in got.items():
            role = _key_role(str(key))
            if role and role not in named:  # d_betas -> betas: the contract's names beside the student's
                named[role] = value
        return named


class Diffusion:
    def __init__(self, adapter: Adapter) -> None:
        self.a = adapter

    def _unet(self, unet: nn.Module) -> nn.Module:
        """The grader's UNet behind the student's class-conditioned calling convention."""
        roles = None
        with contextlib.suppress(Failure):
            cls = self.a.find("ClassConditionalUNet")
            if isinstance(cls, type):
                roles = [_role(p.name) or p.name for p in _params(cls.forward)][2:]  # after self and x
        return Labels(unet, roles=roles)

    def _classes(self, c: Any) -> Any:
        """c as the student's pipeline takes it: the handout's int64 labels, or the one-hot rows when their
        ClassConditionalUNet takes no mask (a one-hot pipeline, which drops a class by zeroing its row)."""
        with contextlib.suppress(Failure):
            unet = self.a.find("ClassConditionalUNet")
            if isinstance(unet, type) and "mask" not in [p.name for p in _params(unet.forward)]:
                return torch.as_tensor(c).float()
        return _labels(c)[0]

    def _schedule(self, sched: dict) -> dict:
        """The grader's schedule under the student's key names (learned from their ddpm_schedule), each
        value the grader's quantity its values match, else the one its name says."""
        betas = torch.as_tensor(sched["betas"])
        derived = _derived(betas)
        theirs: dict = {}
        with contextlib.suppress(Exception):  # no usable ddpm_schedule: the contract's keys only
            fn = self.a.definitions("ddpm_schedule")[-1][1]
            got = fn(1e-4, 0.02, len(betas))
            theirs = got if isinstance(got, dict) else {}
        mine = _derived(torch.linspace(1e-4, 0.02, len(betas), dtype=torch.float64))
        out = {k: torch.as_tensor(sched[k]) for k in KEYS if k in sched}
        for key, value in theirs.items():
            match = None
            if isinstance(value, torch.Tensor) and value.shape == betas.shape:
                gaps = {name: float((value.double().cpu() - ref).abs().max()) for name, ref in mine.items()}
                best = min(gaps, key=gaps.get)
                match = best if gaps[best] < 1e-5 else _key_role(str(key))
            out[key] = derived[match] if match else value
        return {k: v.to(self.a.device) if isinstance(v, torch.Tensor) else v for k, v in out.items()}

    def ddpm_forward(self, unet: nn.Module, sched: dict, x0: torch.Tensor, num_ts: int, c: Any = None,
                     p_uncond: float = 0.1) -> Any:
        classes = c is not None
        defs = [(n, f) for n, f in self.a.definitions("ddpm_forward", "ddpm_forward_class") if _has(f, "c") == classes]
        if not defs:
            raise Failure("missing", f"no {'class-conditioned' if classes else 'time-only'} ddpm_forward is defined "
                          f"(a ddpm_forward {'with' if classes else 'without'} a c argument)", name="ddpm_forward")
        cell, fn = defs[-1] if classes else defs[0]
        values = {"unet": self._unet(unet) if classes else unet, "sched": self._schedule(sched), "x0": x0,
                  "num_ts": num_ts}
        if classes:
            values.update(c=self._classes(c), p_uncond=p_uncond)
        self.a.note(f"{fn.__name__}({', '.join(_shown(fn, values))})" + (f" (the definition of cell {cell})"
                                                                         if cell else ""))
        with _as_of(fn, cell):
            return _call(fn, values)

    def ddpm_sample(self, unet: nn.Module, sched: dict, img_wh: tuple[int, int], num_ts: int, seed: int = 0,
                    c: Any = None, guidance_scale: float = 5.0, num_samples: int | None = None,
                    frame_every: int | None = None) -> Any:
        if frame_every is not None:
            raise Failure("dialect", "CS180's ddpm_sample is not probed for GIF frames")
        classes = c is not None
        defs = [(n, f) for n, f in self.a.definitions("ddpm_sample", "ddpm_sample_class") if _has(f, "c") == classes]
        if not defs:
            raise Failure("missing", f"no {'class-conditioned' if classes else 'time-only'} ddpm_sample is defined",
                          name="ddpm_sample")
        cell, fn = defs[-1] if classes else defs[0]
        values = {"unet": self._unet(unet) if classes else unet, "sched": self._schedule(sched),
                  "img_wh": tuple(img_wh), "num_ts": num_ts, "seed": seed}
        n = len(c) if classes else (1 if num_samples is None else int(num_samples))
        if classes:
            values.update(c=self._classes(c), guidance_scale=guidance_scale)
        self.a.note(f"{fn.__name__}({', '.join(_shown(fn, values))})" + ("" if classes else f" with batch_size = {n}")
                    + (f" (the definition of cell {cell})" if cell else ""))
        with _as_of(fn, cell), _batch_of(fn, n):
            out = _call(fn, values)
        return out[0] if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor) else out

    def DDPM(self, unet: nn.Module, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - the contract's name
        defs = [(n, cls) for n, cls in self.a.definitions("DDPM") if len(_params(cls.forward)) <= 2]
        if not defs:
            raise Failure("missing", "no time-only DDPM (forward(x)) is defined", name="DDPM")
        cell, cls = defs[0]
        self.a.note(f"DDPM(unet, {', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
                    + (f" (the definition of cell {cell})" if cell else ""))
        with _as_of(cls.forward, cell):
            obj = cls(unet, *args, **kwargs)
        return _InCell(obj, cls.forward, cell)


class _InCell:
    """A student object whose method calls run with the notebook's names as of its class's cell."""

    def __init__(self, obj: Any, anchor: Any, cell: int) -> None:
        self._obj, self._anchor, self._cell = obj, anchor, cell

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._obj, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            with _as_of(self._anchor, self._cell):
                return method(*args, **kwargs)

        return call


def _shown(fn: Any, values: dict[str, Any]) -> list[str]:
    words = {"unet": "unet", "sched": "ddpm_schedule", "x0": "x_0", "img_wh": "img_wh"}
    out = []
    for p in _params(fn):
        role = _role(p.name)
        if role in values:
            value = values[role]
            if role == "c":
                shown = "c (int64 labels)" if not value.is_floating_point() else "c (one-hot rows)"
            else:
                shown = repr(value) if isinstance(value, (int, float, tuple)) else words.get(role, role)
            out.append(f"{p.name}={shown}")
    return out
