"""Shared fixtures (real MNIST from $DATA_ROOT, deterministic seeding) and how the suite is spread
over the cores."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

from solution.data import MissingDataError, load_mnist


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _split(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """One MNIST split (images, labels); a missing data set fails with the loader's hint."""
    try:
        return load_mnist(train=train)
    except MissingDataError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    return _split(train=False)


@pytest.fixture(scope="session")
def mnist_train() -> tuple[torch.Tensor, torch.Tensor]:
    return _split(train=True)


# -- running on both cores (pytest-xdist) --------------------------------------------------------
# `make test` runs `pytest -n <cores>`. Each worker computes with one torch thread (two threads per
# process on two cores would wait on each other), and every test module is one unit of work (its
# module-scoped fixtures are made once) unless it is listed in SPLIT (its tests share nothing at
# module scope, so they are spread over the workers one by one). The units go out longest first,
# by the seconds measured in tests/durations.json (tools/test_durations.py rewrites it from a
# run's JUnit file): the deliverables' training runs, which the figure tests need, start first;
# the tests that grade those deliverables come last.
SPLIT = {"test_grader_mutants", "test_grader_correct", "test_grader_hostile", "test_grader_broken",
         "test_quick_deliverables", "test_grader_figures", "test_grader_training", "test_grader_notebook"}
DURATIONS = Path(__file__).with_name("durations.json")
DEFAULT_S = 1.0
_OWN_WORK = pytest.StashKey[str]()
WORK_ENV = "DIFFUSION_HW_TEST_WORK"  # the grading cache shared by the workers (grader_fixtures/grading.py)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
        os.environ["OMP_NUM_THREADS"] = "1"  # and the subprocesses' torch too
    elif WORK_ENV not in os.environ:  # the controller, or a run without workers: made before they start
        os.environ[WORK_ENV] = tempfile.mkdtemp(prefix="grader-tests-")
        config.stash[_OWN_WORK] = os.environ[WORK_ENV]


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_WORK, None)
    if own:
        shutil.rmtree(own, ignore_errors=True)


def _scope(nodeid: str) -> str:
    """The unit of work a test belongs to: its module, or itself in a SPLIT module."""
    path = nodeid.split("::")[0]
    return nodeid if Path(path).stem in SPLIT else path


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: known only when it is loaded
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN001, ANN201 - xdist's types
    """Units of work as _scope says, handed out in collection order (longest first, see below)."""
    from xdist.scheduler import LoadScopeScheduling

    class Scheduler(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid)

    return Scheduler(config, log)


def _tier(item: pytest.Item) -> int:
    """0: a training run of the deliverables; 2: a test that grades them; 1: the rest."""
    if item.get_closest_marker("deliverables_unit"):
        return 0
    return 2 if "quick" in getattr(item, "fixturenames", ()) else 1


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seconds = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    scopes: dict[str, list[pytest.Item]] = {}
    for item in items:
        scopes.setdefault(_scope(item.nodeid), []).append(item)

    def key(group: list[pytest.Item]) -> tuple[int, float]:
        return min(_tier(i) for i in group), -sum(seconds.get(i.nodeid, DEFAULT_S) for i in group)

    items[:] = [i for group in sorted(scopes.values(), key=key) for i in group]
