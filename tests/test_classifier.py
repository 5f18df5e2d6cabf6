"""The reference MNIST classifier in assets/: small, documented, and >= 99% on the MNIST test set."""

from __future__ import annotations

from grader.figures.classifier import WEIGHTS, accuracy, card, load_classifier


def test_weights_are_small_and_documented() -> None:
    assert WEIGHTS.stat().st_size <= 2_000_000
    info = card()
    assert info["trained_with"].startswith("make classifier") and info["test_accuracy"] >= 0.99


def test_accuracy_on_the_mnist_test_set(mnist_test) -> None:
    model = load_classifier()
    acc = accuracy(model, *mnist_test)
    assert acc >= 0.99, f"test accuracy {acc:.4f}"
    assert abs(acc - card()["test_accuracy"]) < 1e-3  # the card records what the weights do


def test_embedding_shape(mnist_test) -> None:
    assert load_classifier().embed(mnist_test[0][:5]).shape == (5, 64)
