"""The reference MNIST classifier the grader uses to read generated digits.

A small CNN (two conv stages, then two linear layers) trained by `make classifier`
(tools/train_classifier.py) on the MNIST training set; its weights and measured test accuracy
are in assets/ (classifier.pt, classifier.json). Inputs are (N, 1, 28, 28) in [0, 1], the
same convention as the assignment's images.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ..paths import CLASSIFIER_CARD as CARD
from ..paths import CLASSIFIER_WEIGHTS as WEIGHTS


def _stage(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)
    )


class MnistClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(_stage(1, 32), _stage(32, 64))  # 28 -> 14 -> 7
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.25), nn.Linear(64, 10)
        )

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The 64-d penultimate features (for a Fréchet distance between image sets)."""
        return self.head[:3](self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def load_classifier(path: str | Path = WEIGHTS, device: str | torch.device = "cpu") -> MnistClassifier:
    """The trained classifier in eval mode."""
    model = MnistClassifier()
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return model.to(device).eval()


def card() -> dict:
    """What assets/classifier.json records: accuracy, training command, date."""
    return json.loads(CARD.read_text())


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int = 1000) -> float:
    correct = 0
    for i in range(0, len(images), batch):
        correct += (model(images[i : i + batch]).argmax(1) == labels[i : i + batch]).sum().item()
    return correct / len(images)
