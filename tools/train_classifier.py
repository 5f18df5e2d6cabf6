"""Train the reference MNIST classifier and write assets/classifier.pt and classifier.json.

    make classifier          # or: python tools/train_classifier.py

Deterministic (fixed seeds, deterministic kernels, one fixed shuffle order per epoch) and
CPU-sized: a few minutes on 2 cores. The accuracy on the genuine MNIST test set is measured
after training and written beside the weights.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.figures.classifier import CARD, WEIGHTS, MnistClassifier, accuracy  # noqa: E402
from solution.data import batches, load_mnist  # noqa: E402

EPOCHS = 3
BATCH = 128
LR = 2e-3
SEED = 0


def main() -> None:
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    x, y = load_mnist(train=True)
    x_test, y_test = load_mnist(train=False)
    model = MnistClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    steps = EPOCHS * (len(x) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps)
    shuffle = torch.Generator().manual_seed(SEED)
    start = time.time()
    for epoch in range(1, EPOCHS + 1):
        model.train()
        for xb, yb in batches(x, y, BATCH, shuffle):
            # A pixel shift of up to 2 in each direction: robustness to off-centre digits.
            dx, dy = torch.randint(-2, 3, (2,), generator=shuffle).tolist()
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        acc = accuracy(model.eval(), x_test, y_test)
        print(f"epoch {epoch}: test accuracy {acc:.4f} ({time.time() - start:.0f} s)", flush=True)
    torch.save(model.state_dict(), WEIGHTS)
    CARD.write_text(
        json.dumps(
            {
                "test_accuracy": round(acc, 4),
                "trained_with": "make classifier (python tools/train_classifier.py)",
                "epochs": EPOCHS,
                "batch_size": BATCH,
                "optimizer": f"Adam, one-cycle LR up to {LR}",
                "train_seconds": round(time.time() - start),
                "date": datetime.date.today().isoformat(),
                "parameters": sum(p.numel() for p in model.parameters()),
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {WEIGHTS.name} ({WEIGHTS.stat().st_size / 1e6:.2f} MB) and {CARD.name}: accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
