"""Short training runs on real MNIST: the loss falls, and a resumed run equals an uninterrupted one."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from solution.config import get_runs
from solution.train import build, train_run

TINY = get_runs("tiny")


def first_and_last(losses: list[float], k: int = 5) -> tuple[float, float]:
    return sum(losses[:k]) / k, sum(losses[-k:]) / k


@pytest.mark.parametrize(
    "name,steps,drop",
    [("denoiser", 40, 0.5), ("purenoise", 40, 0.5), ("ddpm_class", 60, 0.5), ("fm_time", 60, 0.3)],
)
def test_loss_falls(name: str, steps: int, drop: float, mnist_train, tmp_path) -> None:
    run = replace(TINY[name], num_hiddens=8, batch_size=32, epochs=1, steps_per_epoch=steps, lr=3e-3, snapshots=())
    model, loss_fn = build(run)
    losses = train_run(run, model, loss_fn, *mnist_train, tmp_path, seed=0, progress=False)
    assert len(losses) == steps and all(torch.isfinite(torch.tensor(losses)))
    start, end = first_and_last(losses)
    assert end < (1 - drop) * start, f"{name}: loss went from {start:.3f} to {end:.3f}"


def test_resume_continues_exactly(mnist_train, tmp_path) -> None:
    """Stop after epoch 1, rebuild everything from scratch, restart: the run continues from the
    checkpoint (model, optimizer, LR schedule, RNG states) and ends bit-identical."""
    run = replace(TINY["ddpm_class"], num_hiddens=4, batch_size=8, epochs=3, steps_per_epoch=3, snapshots=(1, 3))
    images, labels = mnist_train[0][:512], mnist_train[1][:512]

    torch.manual_seed(0)
    model, loss_fn = build(run)
    whole = train_run(run, model, loss_fn, images, labels, tmp_path / "a", seed=1, progress=False)

    torch.manual_seed(0)
    part_model, part_fn = build(run)
    first = train_run(run, part_model, part_fn, images, labels, tmp_path / "b", seed=1, progress=False, stop_after=1)
    assert len(first) == 3
    torch.manual_seed(123)  # a restarted process starts from other weights and RNG state
    resumed_model, resumed_fn = build(run)
    resumed = train_run(run, resumed_model, resumed_fn, images, labels, tmp_path / "b", seed=1, progress=False)

    assert resumed == whole
    for (k, a), b in zip(model.state_dict().items(), resumed_model.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["epoch001.pt", "epoch003.pt", "last.pt"]


def test_finished_run_is_not_retrained(mnist_train, tmp_path) -> None:
    run = replace(TINY["denoiser"], epochs=2, snapshots=(2,))
    model, loss_fn = build(run)
    losses = train_run(run, model, loss_fn, *mnist_train, tmp_path, progress=False)
    again_model, again_fn = build(run)
    assert train_run(run, again_model, again_fn, *mnist_train, tmp_path, progress=False) == losses
    assert torch.equal(next(iter(again_model.state_dict().values())), next(iter(model.state_dict().values())))


def test_changed_settings_start_over(mnist_train, tmp_path, capsys) -> None:
    run = replace(TINY["denoiser"], epochs=1)
    model, loss_fn = build(run)
    train_run(run, model, loss_fn, *mnist_train, tmp_path, progress=False)
    other = replace(run, lr=run.lr * 2)
    model, loss_fn = build(other)
    assert len(train_run(other, model, loss_fn, *mnist_train, tmp_path, progress=True)) == 1
    assert "starting over" in capsys.readouterr().out


def test_lr_decays_per_epoch(mnist_train, tmp_path) -> None:
    run = replace(TINY["ddpm_time"], epochs=4)
    assert run.gamma == pytest.approx(0.1**0.25)
    model, loss_fn = build(run)
    train_run(run, model, loss_fn, *mnist_train, tmp_path, progress=False)
    state = torch.load(tmp_path / "last.pt", weights_only=False)
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(run.lr * 0.1)
