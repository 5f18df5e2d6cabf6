"""Fixtures of the catalog: `student`, the submission's code behind the sandbox; `figures`, its
deliverable figures, the judge of them and of the weights behind them."""

from __future__ import annotations

import pytest
import torch

from grader.figures.graded import FigureTests
from grader.figures.judge import Judge
from grader.figures.models import Models
from grader.plugin import GRADER_KEY, GradingPlugin
from grader.sandbox.student import Student


def _plugin(config: pytest.Config) -> GradingPlugin:
    if GRADER_KEY not in config.stash:
        raise RuntimeError("the catalog runs through the grader: python -m grader SUBMISSION")
    return config.stash[GRADER_KEY]


@pytest.fixture(scope="session")
def student(request: pytest.FixtureRequest) -> Student:
    return _plugin(request.config).student


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> FigureTests:
    plugin = _plugin(request.config)
    judge = Judge(plugin.deliverables) if plugin.deliverables is not None else None
    models = Models(judge, plugin.student) if judge is not None else None
    return FigureTests(judge, plugin.no_figures, plugin.figures, models)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
