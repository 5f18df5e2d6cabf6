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
    modulation: str = "add"  # time-only UNet: "add" (handout 000) or "mul" (handout 001)
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
    # Without the scheduler: a 10x lower constant rate (the decayed schedule spends most of
    # its steps between 1e-2 and 1e-3) and gradient clipping against the early spikes.
    RunConfig("fm_class_nosched", "class", "fm", 64, 64, 1e-3, 10, (10,), grad_clip=1.0),
)


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
    """The runs of a profile by name."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    return {run.name: run for run in PROFILES[profile]}
