"""FAU ADL Exercise 2: the contract's schedules and diffusion calls, answered by the course's
`linear/cosine/sigmoid_beta_schedule(...)` and `Diffusion(timesteps, get_noise_schedule, img_size,
device)` with its `q_sample`, `p_losses`, `p_sample` and `sample` methods.

    contract                                  ADL (what is called)
    q_sample(x0, t, sched, noise)             Diffusion(T, lambda T: betas, H).q_sample(x_zero=x0, t=t, noise=noise)
    p_losses(unet, x0, t, sched, noise, lt)   ....p_losses(model, x0, t, noise=noise, loss_type=lt)
    p_sample(unet, x_t, t, sched, z)          ....p_sample(model, x, t, t_index), once per distinct t, with
                                              torch.randn / randn_like answering z for the step's noise
    ddpm_sample(unet, sched, (H, W), T, ...)  torch.manual_seed(seed); ....sample(model, H, batch_size=N,
                                              channels=1)[-1]

ADL's UNet takes the integer step t; `model` is the grader's UNet behind a wrapper that hands it t / T,
so the probes see the contract's time. Methods are called with the staff names they accept (their
signatures are read first): extra arguments of a student's own get their defaults, and required
ones a neutral value (None, or 0 for a guidance weight, False for a mode flag).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..failures import StudentFailure as Failure
from . import BaseAdapter, fixed_draws

PROVIDES = ("schedules", "diffusion")
WHERE = ("ex02_diffusion", "diffusion")  # where the course keeps these names; other modules are searched after


class Steps(nn.Module):
    """The grader's UNet as an ADL model: forward(x, time) with the integer time; the UNet gets time / T."""

    def __init__(self, unet: nn.Module, num_ts: int) -> None:
        super().__init__()
        self.unet, self.num_ts = unet, num_ts

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        time = args[0] if args else kwargs.pop("time", kwargs.pop("t", kwargs.pop("timesteps", None)))
        extra = [a for a in args[1:] if a is not None] + [v for v in kwargs.values() if v is not None]
        if extra:
            raise TypeError("the model was given class or guidance inputs in an unconditional call "
                            f"({len(extra)} extra argument(s)); call model(x, t) when no label is given")
        if time is None:
            raise TypeError("the model was called without the time step t")
        return self.unet(x, torch.as_tensor(time, device=x.device).to(torch.float64) / self.num_ts)


def _neutral(name: str) -> Any:
    lowered = name.lower()
    if lowered in ("w", "weight", "guidance_scale", "guidance", "scale", "cfg_scale"):
        return 0.0
    if "mode" in lowered or lowered.startswith(("train", "is_", "use_")):
        return False
    return None


def _call(fn: Callable[..., Any], known: dict[str, Any], positional: list[str]) -> Any:
    """Call a student's method with the staff's argument names it accepts; `positional` are passed by
    position (the first parameters, whatever their names), the rest by keyword where named."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return fn(*[known[p] for p in positional])
    args, kwargs, rest = [], {}, dict(known)
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params)
    for name in positional:
        value = rest.pop(name)
        if params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            args.append(value)
            params.pop(0)
        else:  # keyword-only from here: pass it under its staff name
            kwargs[name] = value
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in rest:
            kwargs[p.name] = rest.pop(p.name)
        elif p.default is p.empty:
            kwargs[p.name] = _neutral(p.name)
    if takes_kwargs:
        kwargs.update({k: v for k, v in rest.items() if k in ("noise", "loss_type", "device")})
    return fn(*args, **kwargs)


def _final(value: Any, what: str) -> torch.Tensor:
    """The sampler's images: ADL's `sample` returns every step's images, the last being the result."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise Failure("result", f"{what} returned an empty list (it returns every step's images)")
        value = value[-1]
    if not isinstance(value, torch.Tensor):
        try:
            value = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError):
            raise Failure("result", f"{what} returned a {type(value).__name__}, not images") from None
    return value[-1] if value.dim() == 5 else value  # every step's images stacked: (steps, N, C, H, W)


class Adapter(BaseAdapter):
    WHERE = WHERE

    def module(self, name: str) -> Any:
        return Schedules(self) if name == "schedules" else Diffusion(self)

    def diffusion(self, sched: dict, image: torch.Tensor | int) -> tuple[Any, str]:
        """A student Diffusion over the grader's betas, and how it was built (for the report). The betas come
        in the images' precision: the course recomputes alpha_bars from them, so for a float64 probe they are
        the float64 betas whose cumulative product is the grader's alpha_bars."""
        cls = self.find("Diffusion")
        dtype = image.dtype if isinstance(image, torch.Tensor) and image.is_floating_point() else torch.float32
        betas = torch.as_tensor(sched["betas"])
        if dtype == torch.float64 and "alpha_bars" in sched:
            bars = torch.as_tensor(sched["alpha_bars"]).double()
            betas = 1 - bars / torch.cat([torch.ones(1, dtype=bars.dtype), bars[:-1]])
        betas = betas.to(self.device, dtype)
        size = image if isinstance(image, int) else int(image.shape[-1])
        num_ts = len(betas)
        known = {"timesteps": num_ts, "get_noise_schedule": lambda timesteps: betas.clone(), "img_size": size,
                 "device": str(self.device)}
        text = f"Diffusion(timesteps={num_ts}, get_noise_schedule=<the grader's betas>, img_size={size})"
        obj = _call(cls, known, ["timesteps", "get_noise_schedule", "img_size"])
        return obj, text

    def method(self, obj: Any, name: str, built: str) -> Callable[..., Any]:
        fn = getattr(obj, name, None)
        if not callable(fn):
            raise Failure("missing", f"{built} has no method `{name}` (ADL's Diffusion defines it)")
        return fn


def _steps(t: Any, n: int, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(t, device=device).long()
    return t.expand(n).clone() if t.dim() == 0 else t.reshape(n)


class Schedules:
    def __init__(self, adapter: Adapter) -> None:
        self.a = adapter

    def linear_beta_schedule(self, beta_start: float, beta_end: float, num_ts: int) -> Any:
        self.a.note(f"linear_beta_schedule({beta_start:g}, {beta_end:g}, {num_ts})")
        return self.a.find("linear_beta_schedule")(beta_start, beta_end, num_ts)

    def cosine_beta_schedule(self, num_ts: int = 300, s: float = 0.008, max_beta: float = 0.999) -> Any:
        self.a.note(f"cosine_beta_schedule({num_ts})")
        return self.a.find("cosine_beta_schedule")(num_ts)

    def sigmoid_beta_schedule(self, beta_start: float = 1e-4, beta_end: float = 0.02, num_ts: int = 300,
                              s_limit: float = 6.0) -> Any:
        self.a.note(f"sigmoid_beta_schedule({beta_start:g}, {beta_end:g}, {num_ts})")
        return self.a.find("sigmoid_beta_schedule")(beta_start, beta_end, num_ts)


class Diffusion:
    def __init__(self, adapter: Adapter) -> None:
        self.a = adapter

    def q_sample(self, x0: torch.Tensor, t: Any, sched: dict, noise: torch.Tensor | None = None) -> Any:
        d, built = self.a.diffusion(sched, x0)
        known = {"x_zero": x0, "t": _steps(t, len(x0), x0.device), "device": str(self.a.device)}
        if noise is not None:
            known["noise"] = noise
        self.a.note(f"{built}.q_sample(x_zero=x0, t=t{', noise=noise' if noise is not None else ''})")
        fn = self.a.method(d, "q_sample", built)
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            params = {}
        if "device" not in params:
            known.pop("device")
        return fn(**known)  # by keyword, as the course's own unit test calls it

    def p_losses(self, unet: nn.Module, x0: torch.Tensor, t: Any, sched: dict, noise: torch.Tensor | None = None,
                 loss_type: str = "l2", c: Any = None, mask: Any = None) -> Any:
        if c is not None:
            raise Failure("dialect", "ADL's p_losses is not probed with the contract's class vector c")
        d, built = self.a.diffusion(sched, x0)
        model = Steps(unet, len(sched["betas"]))
        self.a.note(f"{built}.p_losses(model, x0, t, noise=noise, loss_type={loss_type!r}) with the model "
                    "taking the integer t")
        known = {"denoise_model": model, "x_zero": x0, "t": _steps(t, len(x0), x0.device), "loss_type": loss_type}
        if noise is not None:
            known["noise"] = noise
        return _call(self.a.method(d, "p_losses", built), known, ["denoise_model", "x_zero", "t"])

    def p_sample(self, unet: nn.Module, x_t: torch.Tensor, t: Any, sched: dict, z: torch.Tensor | None = None,
                 c: Any = None, guidance_scale: float = 0.0) -> Any:
        if c is not None:
            raise Failure("dialect", "ADL's p_sample is not probed with the contract's class vector c")
        d, built = self.a.diffusion(sched, x_t)
        fn = self.a.method(d, "p_sample", built)
        model = Steps(unet, len(sched["betas"]))
        steps = _steps(t, len(x_t), x_t.device)
        out = None
        for value in torch.unique(steps).tolist():  # ADL's step is one t for the whole batch (t_index)
            rows = (steps == value).nonzero().reshape(-1)
            self.a.note(f"{built}.p_sample(model, x, t=full({len(rows)}, {value}), t_index={value})"
                        + (" with the step's noise z" if z is not None else ""))
            with fixed_draws(None if z is None else z[rows]):
                got = _call(fn, {"model": model, "x": x_t[rows], "t": steps[rows], "t_index": int(value)},
                            ["model", "x", "t"])
            got = _final(got, f"{built}.p_sample")
            if got.shape != x_t[rows].shape:
                return got  # the grader says what is wrong with the shape
            out = got.new_empty(x_t.shape) if out is None else out
            out[rows.to(out.device)] = got
        return out

    def ddpm_sample(self, unet: nn.Module, sched: dict, img_wh: tuple[int, int], num_ts: int, seed: int = 0,
                    c: Any = None, guidance_scale: float = 5.0, num_samples: int | None = None,
                    frame_every: int | None = None) -> Any:
        if c is not None or frame_every is not None:
            raise Failure("dialect", "ADL's sample is not probed with classes or GIF frames")
        d, built = self.a.diffusion(sched, int(img_wh[0]))
        n = 1 if num_samples is None else int(num_samples)
        torch.manual_seed(seed)
        self.a.note(f"{built}.sample(model, image_size={img_wh[0]}, batch_size={n}, channels=1), its last image "
                    "taken as the result")
        known = {"model": Steps(unet, len(sched["betas"])), "image_size": int(img_wh[0]), "batch_size": n,
                 "channels": 1}
        return _final(_call(self.a.method(d, "sample", built), known, ["model"]), f"{built}.sample")
