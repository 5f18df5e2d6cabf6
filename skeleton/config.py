# Generated from the reference by tools/make_skeleton.py: do not edit by hand.
"""Hyperparameters of every training run, per profile, in one place.

- full:  the handouts' values (a GPU job: about 8.5 hours on a 2-core CPU).
- quick: sized for a 2-core CPU (all parts in about a quarter of an hour): narrower UNets
         and shortened epochs (`steps_per_epoch`), so "epoch 5" means the fifth short epoch.
- tiny:  a few steps per run, for tests and the notebook check; the figures are noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RunConfig:
    name: str  # also the file stem of its loss log and checkpoint folder
    model: str  # "uncond" | "time" | "class"
    objective: str  # "denoise" | "purenoise" | "ddpm" | "fm"
    num_hiddens: int
    batch_size: int
    lr: float
    epochs: int
    snapshots: tuple[int, ...]  # epochs whose weights are kept for the figures
    lr_decay: bool = False  # ExponentialLR(gamma = 0.1 ** (1 / epochs)), stepped per epoch
    steps_per_epoch: int | None = None  # None: the whole training set each epoch
    grad_clip: float | None = None
    num_ts: int = 300  # DDPM timesteps / flow-matching Euler steps
    modulation: str = "add"  # time-only UNet: "add" (h + t, the DDPM part) or "mul" (h * t, flow matching)
    sigma: float = 0.5  # Part 1 training noise level

    @property
    def gamma(self) -> float:
        return 0.1 ** (1.0 / self.epochs)


_FULL = (
    RunConfig("denoiser", "uncond", "denoise", 128, 256, 1e-4, 5, (1, 5)),
    RunConfig("purenoise", "uncond", "purenoise", 128, 256, 1e-4, 5, (1, 5)),
    RunConfig("ddpm_time", "time", "ddpm", 64, 128, 1e-3, 20, (5, 20), lr_decay=True),
    RunConfig("ddpm_class", "class", "ddpm", 64, 128, 1e-3, 20, (5, 20), lr_decay=True),
    RunConfig("fm_time", "time", "fm", 64, 64, 1e-2, 10, (1, 5, 10), lr_decay=True, modulation="mul"),
    RunConfig("fm_class", "class", "fm", 64, 64, 1e-2, 10, (1, 5, 10), lr_decay=True),
)
NO_SCHEDULER = "fm_class_nosched"  # fm_class again, without its learning-rate scheduler (FM 2.6)


def no_scheduler(run: RunConfig) -> RunConfig:
    """FM 2.6: the settings of `run` (the class-conditioned flow-matching run) for training it
    without the learning-rate scheduler. With lr_decay off, the rate stays at its first value
    (1e-2) for all 10 epochs, where the scheduler would have lowered it tenfold by the end. Return
    `dataclasses.replace(run, ...)` with what you change to make up for that (the fields of
    RunConfig: lr, grad_clip, batch_size, ...); the run's name, epochs and snapshots are set for you."""
    raise NotImplementedError(
        'TODO(no_scheduler): return replace(run, ...) with what keeps the steps as small as the '
        'scheduler would: a lower constant learning rate (where does the decayed rate spend most of '
        "its steps?) and gradient clipping against the loss's early spikes (grad_clip: train_step "
        'clips the gradient norm to it).'
    )


def _without_scheduler(run: RunConfig) -> RunConfig:
    return replace(no_scheduler(run), name=NO_SCHEDULER, lr_decay=False, snapshots=(run.epochs,))


def _quick(run: RunConfig) -> RunConfig:
    # Measured on 2 CPU cores: D=16 trains ~440 images/s, D=32 ~175, D=64 ~70. Flow matching
    # learns faster per step than DDPM here, and its Euler sampler needs far fewer than 300 steps.
    steps = {"denoise": 30, "purenoise": 20, "ddpm": 60, "fm": 50}[run.objective]
    lr = {"denoise": 1e-3, "purenoise": 1e-3}.get(run.objective, run.lr)
    num_ts = 100 if run.objective == "fm" else run.num_ts
    batch = min(run.batch_size, 128)
    return replace(run, num_hiddens=16, batch_size=batch, lr=lr, steps_per_epoch=steps, num_ts=num_ts)


def _tiny(run: RunConfig) -> RunConfig:
    return replace(run, num_hiddens=4, batch_size=16, steps_per_epoch=1, num_ts=20)


PROFILES: dict[str, tuple[RunConfig, ...]] = {
    "full": _FULL,
    "quick": tuple(_quick(r) for r in _FULL),
    "tiny": tuple(_tiny(r) for r in _FULL),
}


def get_runs(profile: str) -> dict[str, RunConfig]:
    """The runs of a profile by name; the no-scheduler run once no_scheduler() is written."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    runs = {run.name: run for run in PROFILES[profile]}
    try:
        runs[NO_SCHEDULER] = _without_scheduler(runs["fm_class"])
    except NotImplementedError:
        pass  # still a TODO: every other run trains; training this one names the TODO
    return runs
