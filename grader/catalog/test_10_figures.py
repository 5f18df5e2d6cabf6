"""10. Deliverable figures: the figures/ and losses/ of `make deliverables`, judged against the
manifest assets/deliverables.json (layout found from each image, content by its check; the
thresholds are the [figures.<check>] tables of rubric.toml). One test per handout part."""

from __future__ import annotations

from collections.abc import Callable

from grader.figures.graded import FigureTests
from grader.plugin import graded

ROWS = "Rows are clean, noisy (sigma = 0.5), denoised: the same eight test digits and noise at both epochs."
COLUMNS = "Sample with c = one_hot(arange(10).repeat(4)) and draw 10 tiles per row, so that column k holds digit k."


def when(check: str, hint: str) -> Callable[[BaseException], str | None]:
    """The hint, only when a check whose name starts so failed (not when there is no figures/ folder)."""
    return lambda exc: hint if f"({check}" in str(exc) else None


@graded()
def test_figures_noising(figures: FigureTests) -> None:
    figures.expect("1.2")


@graded(hint=when("denoised_", ROWS))
def test_figures_denoiser(figures: FigureTests) -> None:
    figures.expect("1.2.1")


@graded()
def test_figures_out_of_distribution(figures: FigureTests) -> None:
    figures.expect("1.2.2")


@graded()
def test_figures_pure_noise(figures: FigureTests) -> None:
    figures.expect("1.2.3")


@graded()
def test_figures_schedules(figures: FigureTests) -> None:
    figures.expect("2")


@graded()
def test_figures_ddpm_time(figures: FigureTests) -> None:
    figures.expect("2.2", "2.3")


@graded(hint=when("columns_are_digits", COLUMNS))
def test_figures_ddpm_class(figures: FigureTests) -> None:
    figures.expect("2.4", "2.5")


@graded()
def test_figures_fm_time(figures: FigureTests) -> None:
    figures.expect("FM 2.2", "FM 2.3")


@graded(hint=when("columns_are_digits", COLUMNS))
def test_figures_fm_class(figures: FigureTests) -> None:
    figures.expect("FM 2.5", "FM 2.6")
