"""Lenient value checks, paired with the tests whose evidence is calls, times or shapes.

A test that only looks at which t the mock UNet was called with, how often, or the shape of
what came back, passes code that makes the right calls and returns noise or a constant. Each
such test also asks that the value be roughly right: far looser than the tests that judge the
value itself (which name the exact mistake), so a small slip does not cost these points twice,
but noise, a constant or an unrelated tensor fails.
"""

from __future__ import annotations

import torch

from . import reference as ref
from .expect import Mismatch, expect_tensor

WHY = ("the right calls and shapes are not enough: the values must follow from them (noise or a constant in "
       "their place is not an implementation)")


def rms(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a.double() - b.double()) ** 2).mean().sqrt())


def _finite(value: torch.Tensor, what: str) -> None:
    if not bool(torch.isfinite(value).all()):
        raise Mismatch(what, "  the values hold NaN or inf", "a NaN/inf: look for the square root of a negative "
                       "number (1 - alpha_bar, not alpha_bar - 1) or a division by zero")


def expect_roughly(got: object, expected: torch.Tensor, what: str, max_rms: float) -> None:
    """got within RMS max_rms of expected (same shape)."""
    value = expect_tensor(got, what, tuple(expected.shape))
    _finite(value, what)
    off = rms(value, expected)
    if not off <= max_rms:
        raise Mismatch(what, f"  RMS difference {off:.3g} from the value its inputs give (at most {max_rms:g} "
                       "allowed here; other tests check it exactly)", WHY)


def expect_reverse_chain(records: list, sched: dict, num_ts: int, what: str, max_z_std: float = 3.0) -> None:
    """Consecutive inputs of a DDPM sampler's UNet calls (time-only, recorded with x): each step is
    x_{t-1} = mean(x_t) + sigma_t z, so the implied z = (x_{t-1} - mean) / sqrt(beta_t) stays of order
    one. An x drawn afresh at each step gives |z| of order 1 / sqrt(beta_t) (7 or more)."""
    for before, after in zip(records, records[1:], strict=False):
        if before.x is None or after.x is None or before.x.shape != after.x.shape:
            raise Mismatch(what, "  the UNet's inputs were not images of one shape from step to step", WHY)
        _finite(after.x, what)
        t = _step(before.t, num_ts, what)
        mean = ref.posterior_mean(before.x, t, sched, ref.mock_eps(before.x, t.double() / num_ts))
        z = (after.x.double() - mean) / ref.at(sched["betas"], t, before.x).double().sqrt()
        std = float(z.std())
        if not std <= max_z_std:
            raise Mismatch(what, f"  from the call at t = {int(t[0])} to the next, x changed by {std:.3g} standard "
                           f"deviations of the step's noise sqrt(beta_t) (at most {max_z_std:g}): the next x does "
                           "not come from this step's mean", WHY)


def _step(t_norm: torch.Tensor, num_ts: int, what: str) -> torch.Tensor:
    """The integer steps 0 .. T-1 behind the normalised times a UNet received; other times are the
    student's (say t itself, not t / T), never an index the grader may use."""
    if t_norm.numel() == 0 or not bool(torch.isfinite(t_norm).all()):
        raise Mismatch(what, "  the UNet received no finite time t", "the UNet gets the normalised time t / T")
    t = (t_norm.double() * num_ts).round().long()
    if int(t.min()) < 0 or int(t.max()) >= num_ts:
        raise Mismatch(what, f"  the UNet received t = {float(t_norm.reshape(-1)[0]):g}, outside 0 .. (T-1) / T "
                       f"(T = {num_ts})", "the UNet gets the normalised time t / T, in [0, 1)")
    return t


def expect_euler_chain(records: list, num_steps: int, what: str, max_ratio: float = 3.0) -> None:
    """Consecutive inputs of a flow-matching sampler's velocity calls: x moves by u / n per step."""
    for before, after in zip(records, records[1:], strict=False):
        if before.x is None or after.x is None or before.x.shape != after.x.shape:
            raise Mismatch(what, "  the velocity field's inputs were not images of one shape from step to step", WHY)
        _finite(after.x, what)
        step = float((ref.mock_eps(before.x, before.t).double() / num_steps).pow(2).mean().sqrt())
        moved = rms(after.x, before.x)
        if not moved <= max_ratio * step + 1e-6:
            raise Mismatch(what, f"  x moved by RMS {moved:.3g} in one step, while u / n is {step:.3g} (at most "
                           f"{max_ratio:g} times that)", WHY)


FRAMES_HINT = ("with frame_every=k, return (x, frames): frames holds the image every k steps, in order, and ends "
               "with the final x (the sampling GIF is made of them)")


def expect_frames(value: object, inputs: list[torch.Tensor], every: int, what: str) -> None:
    """A sampler asked for frame_every=k returns (x, frames): about one frame every k of its n steps, each
    an image the sampler went through (the network's input at some step, or the result), in order, and
    the last one the result x itself. `inputs`: the images the network received, step by step."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[1], (list, tuple))):
        raise Mismatch(what, "  expected a pair (x, frames) with frames a list of images", FRAMES_HINT)
    x = expect_tensor(value[0], f"{what}: x")
    frames = [expect_tensor(f, f"{what}: a frame", tuple(x.shape)) for f in value[1]]
    n = len(inputs)
    if not frames or not n:
        raise Mismatch(what, f"  {len(frames)} frames after {n} calls of the network", FRAMES_HINT)
    if not n // every <= len(frames) <= n // every + 2:
        raise Mismatch(what, f"  {len(frames)} frames for {n} steps with frame_every={every}: expected about "
                       f"{n // every} (one every {every} steps) and the final image", FRAMES_HINT)
    if not torch.allclose(frames[-1].double(), x.double()):
        raise Mismatch(what, "  the last frame is not the image the sampler returned", FRAMES_HINT)
    seen = None
    for k, frame in enumerate(frames[:-1]):
        start = 0 if seen is None else seen + max(1, every // 2)  # about `every` steps after the frame before
        later = [j for j in range(start, n) if torch.allclose(frame.double(), inputs[j].double(), atol=1e-5)]
        if not later:
            raise Mismatch(what, f"  frame {k} is not an intermediate image of the sampler about {every} steps after "
                           f"frame {k - 1}", FRAMES_HINT)
        seen = later[0]
