"""Fixtures of the catalog: `student`, the submission's code behind the sandbox."""

from __future__ import annotations

import pytest
import torch

from grader.plugin import GRADER_KEY, GradingPlugin
from grader.sandbox.student import Student


def _plugin(config: pytest.Config) -> GradingPlugin:
    if GRADER_KEY not in config.stash:
        raise RuntimeError("the catalog runs through the grader: python -m grader SUBMISSION")
    return config.stash[GRADER_KEY]


@pytest.fixture(scope="session")
def student(request: pytest.FixtureRequest) -> Student:
    return _plugin(request.config).student


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
