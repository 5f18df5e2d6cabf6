"""Sample quality of the reference, judged by the reference MNIST classifier (assets/):

- CFG accuracy: class-conditioned samples (guidance 5) read as the digit they were asked for;
- confident digits: samples whose top class probability is at least 0.9;
- Fréchet distance between the classifier's 64-d features of the samples and of the MNIST
  test set (an FID on MNIST's own feature space; the line "MNIST train" is the floor: real
  digits against real digits, same sample count).

    python tools/bench_quality.py --deliverables build/deliverables --profile quick [--samples 500]

Reads the final snapshot of each run from DELIVERABLES/checkpoints/ and replaces the section
"## Sample quality: <profile> profile" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.data import mnist_uint8  # noqa: E402
from grader.figures.classifier import load_classifier  # noqa: E402
from solution.config import get_runs  # noqa: E402
from solution.data import one_hot  # noqa: E402
from solution.train import build, load_snapshot  # noqa: E402
from tools.bench import DOC, resolve_device, write_section  # noqa: E402

RUNS = ("ddpm_time", "ddpm_class", "fm_time", "fm_class", "fm_class_nosched")
CONFIDENT = 0.9
GOALS = {"cfg_accuracy": 0.95, "confident": 0.70}  # issue 4's goals for the full profile


def frechet(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples)."""
    a, b = a.double(), b.double()
    mu = a.mean(0) - b.mean(0)
    s1, s2 = torch.cov(a.T), torch.cov(b.T)
    w, v = torch.linalg.eigh(s1)
    root1 = v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T
    # tr sqrt(S1 S2) = sum of sqrt of the eigenvalues of sqrt(S1) S2 sqrt(S1) (symmetric, PSD)
    cross = torch.linalg.eigvalsh(root1 @ s2 @ root1).clamp(min=0).sqrt().sum()
    return float(mu @ mu + s1.trace() + s2.trace() - 2 * cross)


@torch.no_grad()
def _features(classifier: torch.nn.Module, images: torch.Tensor, device: torch.device) -> tuple:
    probs, feats = [], []
    for chunk in images.split(1000):
        chunk = chunk.to(device).clamp(0, 1)
        feats.append(classifier.embed(chunk).cpu())
        probs.append(classifier(chunk).softmax(1).cpu())
    return torch.cat(probs), torch.cat(feats)


@torch.no_grad()
def _sample(run: str, profile: str, ckpt: Path, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    cfg = get_runs(profile)[run]
    model, _ = build(cfg)
    model = load_snapshot(model.to(device), ckpt / run, cfg.epochs).eval()
    labels = torch.arange(n) % 10
    out = []
    for i, part in enumerate(labels.split(500)):
        if cfg.model == "class":
            out.append(model.sample((28, 28), seed=i, c=one_hot(part).to(device), guidance_scale=5.0).cpu())
        else:
            out.append(model.sample((28, 28), seed=i, num_samples=len(part)).cpu())
    return torch.cat(out), labels


def measure(deliverables: Path, profile: str, n: int, device: torch.device) -> dict:
    classifier = load_classifier(device=device).eval()
    test_images = mnist_uint8(train=False)[0].float() / 255
    train_images = mnist_uint8(train=True)[0][:n].float() / 255
    _, test_feats = _features(classifier, test_images, device)
    floor_probs, floor_feats = _features(classifier, train_images, device)
    rows = {"MNIST train": {"confident": float((floor_probs.max(1).values >= CONFIDENT).float().mean()),
                            "fd": frechet(floor_feats, test_feats), "seconds": 0.0}}
    for run in RUNS:
        if not (deliverables / "checkpoints" / run).is_dir():
            continue
        start = time.perf_counter()
        images, labels = _sample(run, profile, deliverables / "checkpoints", n, device)
        probs, feats = _features(classifier, images, device)
        row = {"confident": float((probs.max(1).values >= CONFIDENT).float().mean()),
               "fd": frechet(feats, test_feats), "seconds": time.perf_counter() - start}
        if get_runs(profile)[run].model == "class":
            row["cfg_accuracy"] = float((probs.argmax(1) == labels).float().mean())
        rows[run] = row
        print(f"{run}: {row}", flush=True)
    return rows


def render(rows: dict, profile: str, n: int, device: torch.device, source: str) -> str:
    lines = [f"## Sample quality: {profile} profile", "",
             f"Measured by `tools/bench_quality.py` on {datetime.date.today().isoformat()} ({device.type}"
             f"{', ' + torch.cuda.get_device_name() if device.type == 'cuda' else ''}, torch {torch.__version__}), "
             f"{n} samples per run from the final snapshot of {source}; classes cycle 0..9, guidance 5.", "",
             "| run | CFG accuracy | confident digits (p ≥ 0.9) | Fréchet distance (classifier features) | s |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for run, r in rows.items():
        acc = f"{r['cfg_accuracy']:.1%}" if "cfg_accuracy" in r else "—"
        lines.append(f"| {run} | {acc} | {r['confident']:.1%} | {r['fd']:.2f} | {r['seconds']:.0f} |")
    cfg = [r["cfg_accuracy"] for k, r in rows.items() if k in ("ddpm_class", "fm_class")]
    conf = [r["confident"] for k, r in rows.items() if k in ("ddpm_time", "fm_time")]
    if profile == "full" and cfg and conf:
        lines += ["", f"Goals (issue 4, full profile): CFG accuracy ≥ {GOALS['cfg_accuracy']:.0%}: "
                  f"{'met' if min(cfg) >= GOALS['cfg_accuracy'] else 'NOT met'} (lowest {min(cfg):.1%}); "
                  f"time-only confident digits ≥ {GOALS['confident']:.0%}: "
                  f"{'met' if min(conf) >= GOALS['confident'] else 'NOT met'} (lowest {min(conf):.1%})."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deliverables", type=Path, default=Path("build/deliverables"))
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--doc", type=Path, default=DOC)
    args = ap.parse_args(argv)
    if not (args.deliverables / "checkpoints").is_dir():
        print(f"no checkpoints under {args.deliverables}: run make deliverables PROFILE={args.profile} first")
        return 2
    device = resolve_device(args.device)
    torch.manual_seed(0)
    rows = measure(args.deliverables, args.profile, args.samples, device)
    section = render(rows, args.profile, args.samples, device, f"`make deliverables PROFILE={args.profile}`")
    write_section(section, args.doc)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
