"""Train every part and write the deliverables: figures/, losses/, weights/ and checkpoints/.

    python -m <this package>.deliverables --profile quick --out build/deliverables

Which figures exist, and their file names, come from the manifest (manifest.py).
A run that is interrupted resumes from its last epoch checkpoint when started again.
weights/ keeps each run's final UNet weights and settings (small: they are uploaded with the
figures, so that a grader can sample from the model that made them); checkpoints/ is for resuming.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from .config import NO_SCHEDULER, RunConfig, get_runs, no_scheduler
from .data import MissingDataError, load_mnist, one_hot
from .diffusion import add_noise
from .figures import save_gif, save_grid, save_loss_curve, save_losses_json
from .manifest import FIGURES
from .schedules import ddpm_schedule
from .train import build, load_snapshot, train_run

SIGMAS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0)
PARTS = ("part1", "ddpm", "fm")
SEED = 0


class Deliverables:
    """Where one run of the assignment writes its outputs, and the data it shares."""

    def __init__(self, out: str | Path, profile: str, device: str = "auto", progress: bool = True) -> None:
        self.out = Path(out)
        self.runs = get_runs(profile)
        self.profile = profile
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.progress = progress
        self.files = {f["id"]: f["file"] for f in FIGURES}
        for sub in ("figures", "losses", "weights", "checkpoints"):
            (self.out / sub).mkdir(parents=True, exist_ok=True)
        self.train_x, self.train_y = load_mnist(True, self.device)
        self.test_x, _ = load_mnist(False, self.device)
        self.timings: dict[str, float] = {}

    def fig(self, fig_id: str) -> Path:
        return self.out / "figures" / self.files[fig_id]

    def fixed_noise(self, shape: tuple[int, ...], seed: int = SEED) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        return torch.randn(shape, generator=gen).to(self.device)

    def train(self, name: str) -> tuple[RunConfig, torch.nn.Module, list[float]]:
        """Train (or resume, or reload) one run and save its loss log and curve."""
        if name == NO_SCHEDULER and name not in self.runs:
            no_scheduler(get_runs(self.profile)["fm_class"])  # raises the TODO's own message
        run = self.runs[name]
        torch.manual_seed(SEED)
        model, loss_fn = build(run)
        model.to(self.device)
        ckpt = self.out / "checkpoints" / name
        start = time.time()
        losses = train_run(run, model, loss_fn, self.train_x, self.train_y, ckpt, SEED, self.progress)
        self.timings[f"train {name}"] = round(time.time() - start, 1)
        per_epoch = len(losses) // run.epochs
        save_losses_json(losses, self.out / "losses" / f"{name}.json", name, per_epoch)
        save_loss_curve(losses, self.fig(f"{name}_loss"), f"{name}: training loss ({self.profile})", per_epoch)
        self.save_weights(run, model)
        return run, model, losses

    def save_weights(self, run: RunConfig, model: torch.nn.Module) -> None:
        """weights/<run>.pt: the final state_dict of the run's UNet (without the DDPM/flow wrapper), in
        float16 to halve the upload (load_state_dict converts back); weights/<run>.json: the settings
        it was built and trained with."""
        unet = getattr(model, "unet", model)
        state = {k: v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()
                 for k, v in unet.state_dict().items()}
        torch.save(state, self.out / "weights" / f"{run.name}.pt")
        settings = {"profile": self.profile, "unet": type(unet).__name__, **asdict(run)}
        (self.out / "weights" / f"{run.name}.json").write_text(json.dumps(settings, indent=1) + "\n")

    def snapshot(self, run: RunConfig, model: torch.nn.Module, epoch: int) -> torch.nn.Module:
        load_snapshot(model, self.out / "checkpoints" / run.name, epoch)
        return model.eval()

    # Part 1 ---------------------------------------------------------------------------

    @torch.no_grad()
    def part1(self) -> None:
        x = self.test_x[:8]
        eps = self.fixed_noise(tuple(x.shape))
        sig = torch.tensor(SIGMAS, device=self.device).reshape(1, -1, 1, 1, 1)
        # (digits, sigmas, 1, 28, 28) -> rows of one digit across all sigmas
        noised = add_noise(x[:4, None], sig, eps[:4, None]).flatten(0, 1)
        labels = [f"σ={s:g}" for s in SIGMAS]
        save_grid(noised, self.fig("noising"), 7, "Noising z = x + σ·ε", labels)

        with torch.enable_grad():
            run, model, _ = self.train("denoiser")
        rows = ["clean", f"σ={run.sigma:g}", "denoised"]
        for epoch in run.snapshots:
            model = self.snapshot(run, model, epoch)
            z = add_noise(x, run.sigma, eps)
            grid = torch.cat([x, z, model(z)])
            save_grid(
                grid,
                self.fig(f"denoiser_epoch{epoch}"),
                8,
                f"σ = {run.sigma:g} denoiser after epoch {epoch}",
                row_labels=rows,
            )
        z = add_noise(x[:3, None], sig, eps[:3, None])  # (3, 7, 1, 28, 28)
        out = model(z.flatten(0, 1)).reshape(z.shape)
        grid = torch.stack([z, out], dim=1).flatten(0, 2)  # noisy row, denoised row, per digit
        save_grid(
            grid,
            self.fig("denoiser_ood"),
            7,
            "Out-of-distribution σ (trained on σ = 0.5)",
            labels,
            ["noisy", "denoised"] * 3,
        )

        with torch.enable_grad():
            run, model, _ = self.train("purenoise")
        for epoch in run.snapshots:
            model = self.snapshot(run, model, epoch)
            grid = torch.cat([eps, model(eps)])
            save_grid(
                grid,
                self.fig(f"purenoise_epoch{epoch}"),
                8,
                f"Denoising pure noise, epoch {epoch}",
                row_labels=["input ε", "output"],
            )

    # Part 2 (DDPM) and flow matching ---------------------------------------------------

    def generative(self, name: str) -> None:
        """Train a DDPM or flow-matching run and draw its samples at every snapshot epoch."""
        run, model, _ = self.train(name)
        c = one_hot(torch.arange(10, device=self.device).repeat(4)) if run.model == "class" else None
        kind = "DDPM" if run.objective == "ddpm" else "Flow matching"
        cond = "class-conditioned, CFG γ = 5" if c is not None else "time-conditioned"
        cols = [str(d) for d in range(10)] if c is not None else None
        start = time.time()
        for epoch in run.snapshots:
            model = self.snapshot(run, model, epoch)
            final = epoch == run.snapshots[-1] and f"{name}_gif" in self.files
            every = max(1, run.num_ts // 30) if final else None
            out = model.sample((28, 28), seed=SEED, c=c, num_samples=40, frame_every=every, progress=self.progress)
            samples, frames = out if final else (out, None)
            save_grid(samples, self.fig(f"{name}_epoch{epoch}"), 10, f"{kind}, {cond}: epoch {epoch}", cols)
            if frames:
                save_gif(frames, self.fig(f"{name}_gif"), 10)
        self.timings[f"sample {name}"] = round(time.time() - start, 1)

    def schedules(self) -> None:
        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
        for kind in ("linear", "cosine", "sigmoid"):
            ax.plot(ddpm_schedule(num_ts=300, kind=kind)["alpha_bars"].numpy(), label=kind)
        ax.set_xlabel("t")
        ax.set_ylabel("ᾱ_t")
        ax.set_title("ᾱ_t of the beta schedules (T = 300)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(self.fig("schedules"))
        plt.close(fig)

    def ddpm(self) -> None:
        self.schedules()
        self.generative("ddpm_time")
        self.generative("ddpm_class")

    def fm(self) -> None:
        for name in ("fm_time", "fm_class", NO_SCHEDULER):
            self.generative(name)

    def run(self, parts: tuple[str, ...] = PARTS) -> dict[str, float]:
        """Run the chosen parts in order; returns (and saves) the seconds each took."""
        for part in parts:
            start = time.time()
            getattr(self, part)()
            self.timings[part] = round(time.time() - start, 1)
            if self.progress:
                print(f"{part}: {self.timings[part]:.0f} s")
        (self.out / "timings.json").write_text(
            json.dumps({"profile": self.profile, "device": str(self.device), **self.timings}, indent=1)
        )
        return self.timings


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train every part of the assignment and write its figures.")
    ap.add_argument("--profile", default="quick", help="full (handout values), quick (CPU-sized) or tiny (tests)")
    ap.add_argument("--out", default="build/deliverables", help="output folder")
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    parts = tuple(p for p in args.parts.split(",") if p)
    unknown = set(parts) - set(PARTS)
    if unknown:
        ap.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    try:
        Deliverables(args.out, args.profile, args.device, not args.quiet).run(parts)
    except MissingDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
