"""MNIST loading from DATA_ROOT."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from solution.data import batches, load_mnist, one_hot

ROOT = Path(__file__).resolve().parent.parent


def test_splits_shapes_and_range(mnist_train, mnist_test) -> None:
    for (x, y), n in ((mnist_train, 60_000), (mnist_test, 10_000)):
        assert x.shape == (n, 1, 28, 28) and x.dtype == torch.float32
        assert y.shape == (n,) and y.dtype == torch.int64
        assert x.min() == 0 and x.max() == 1
    assert abs(mnist_train[0].mean().item() - 0.1307) < 1e-3  # MNIST's published mean
    assert torch.bincount(mnist_test[1]).tolist()[:2] == [980, 1135]


def test_batches_shuffle_and_cover(mnist_test) -> None:
    x, y = mnist_test[0][:100], torch.arange(100)
    seen = [b[1] for b in batches(x, y, 32, torch.Generator().manual_seed(0))]
    assert [len(b) for b in seen] == [32, 32, 32]  # the partial batch is dropped
    flat = torch.cat(seen)
    assert len(set(flat.tolist())) == 96 and not torch.equal(flat, torch.arange(96))
    assert len(list(batches(x, y, 32, torch.Generator(), max_steps=2))) == 2


def test_one_hot() -> None:
    assert torch.equal(one_hot(torch.tensor([2, 0])), torch.eye(10)[[2, 0]])


def test_missing_data_gives_one_clear_message(tmp_path) -> None:
    """No MNIST and no network: one line that says how to set DATA_ROOT, no traceback."""
    code = "from solution.deliverables import main; main(['--profile', 'tiny', '--out', 'x', '--quiet'])"
    env = {
        "DATA_ROOT": str(tmp_path / "nowhere"),
        "PATH": "/usr/bin:/bin",
        "no_proxy": "*",
        "https_proxy": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
    }
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "DATA_ROOT" in lines[0] and "MNIST" in lines[0], proc.stderr


def test_loader_raises_missing_data_error(tmp_path, monkeypatch) -> None:
    import pytest

    from solution.data import MissingDataError

    monkeypatch.setattr("torchvision.datasets.MNIST.mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(MissingDataError, match="DATA_ROOT"):
        load_mnist(root=tmp_path)
