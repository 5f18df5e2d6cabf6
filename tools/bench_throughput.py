"""Training throughput of the reference, per part: images per second through one Adam step
(forward, loss, backward, update) at a profile's width and batch size, on real MNIST batches.

    python tools/bench_throughput.py [--profile quick] [--device auto] [--steps 20]

Each run of the profile is built as `make deliverables` builds it, warmed up for 3 steps, then
timed over STEPS steps (CUDA synchronised). Replaces the section "## Training throughput:
<profile> profile, <device>" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solution.config import RunConfig, get_runs  # noqa: E402
from solution.data import load_mnist  # noqa: E402
from solution.train import build, train_step  # noqa: E402
from tools.bench import DOC, _cpu, resolve_device, write_section  # noqa: E402

WARMUP = 3


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure_run(run: RunConfig, images: torch.Tensor, labels: torch.Tensor, steps: int, device: torch.device) -> float:
    """Images per second of `steps` optimisation steps of one run."""
    torch.manual_seed(0)
    model, loss_fn = build(run)
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=run.lr)
    gen = torch.Generator().manual_seed(0)
    order = torch.randint(0, len(images), ((WARMUP + steps), run.batch_size), generator=gen).to(device)
    for i in range(WARMUP):
        train_step(model, optimizer, loss_fn, images[order[i]], labels[order[i]], run.grad_clip)
    _sync(device)
    start = time.perf_counter()
    for i in range(WARMUP, WARMUP + steps):
        train_step(model, optimizer, loss_fn, images[order[i]], labels[order[i]], run.grad_clip)
    _sync(device)
    return steps * run.batch_size / (time.perf_counter() - start)


def render(rows: list[tuple[RunConfig, float]], profile: str, device: torch.device, steps: int) -> str:
    where = (f"{torch.cuda.get_device_name()}" if device.type == "cuda"
             else f"{_cpu()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads")
    lines = [f"## Training throughput: {profile} profile, {device.type}", "",
             f"Measured by `tools/bench_throughput.py` on {datetime.date.today().isoformat()} ({where}, "
             f"torch {torch.__version__}, load average {os.getloadavg()[0]:.1f}): {steps} Adam steps per run "
             f"after {WARMUP} warm-up steps, real MNIST batches, the profile's width and batch size.", "",
             "| run | D | batch | images/s | one 60k epoch |", "| --- | ---: | ---: | ---: | ---: |"]
    for run, ips in rows:
        lines.append(f"| {run.name} | {run.num_hiddens} | {run.batch_size} | {ips:,.0f} | {60000 / ips:,.0f} s |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--doc", type=Path, default=DOC)
    args = ap.parse_args(argv)
    device = resolve_device(args.device)
    images, labels = load_mnist(train=True, device=device)
    rows = []
    for run in get_runs(args.profile).values():
        ips = measure_run(run, images, labels, args.steps, device)
        print(f"{run.name}: {ips:,.0f} images/s", flush=True)
        rows.append((run, ips))
    section = render(rows, args.profile, device, args.steps)
    write_section(section, args.doc)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
