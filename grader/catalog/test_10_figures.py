"""10. Deliverable figures: the figures/ and losses/ of `make deliverables`, judged against the
manifest assets/deliverables.json (layout found from each image, content by its check; the
thresholds are the defaults in grader/figures/checks.py and a figure's own in the manifest).
One test per handout part."""

from __future__ import annotations

from collections.abc import Callable

from grader.figures.graded import FigureTests
from grader.plugin import graded

ROWS = "Rows are clean, noisy (sigma = 0.5), denoised: the same eight test digits and noise at both epochs."
COLUMNS = "Sample with c = one_hot(arange(10).repeat(4)) and draw 10 tiles per row, so that column k holds digit k."


def when(check: str, hint: str) -> Callable[[BaseException], str | None]:
    """The hint, only when a check whose name starts so failed (not when there is no figures/ folder)."""
    return lambda exc: hint if any(v.check.startswith(check) for v in getattr(exc, "failed", [])) else None


@graded("1.2 noising figure: 4 digits x 7 sigmas, noise grows along the columns", points=2)
def test_figures_noising(figures: FigureTests) -> None:
    figures.expect("1.2")


@graded("1.2.1 denoiser: loss log falls; denoised closer to clean, and closer after epoch 5 than 1", points=3,
        when=when("denoised_", ROWS))
def test_figures_denoiser(figures: FigureTests) -> None:
    figures.expect("1.2.1")


@graded("1.2.2 out-of-distribution sigmas: 6 rows x 7 sigmas, noise grows along the columns", points=2)
def test_figures_out_of_distribution(figures: FigureTests) -> None:
    figures.expect("1.2.2")


@graded("1.2.3 pure-noise denoiser: loss falls; after epoch 5 the outputs are nearly one image", points=2)
def test_figures_pure_noise(figures: FigureTests) -> None:
    figures.expect("1.2.3")


@graded("2 the plot of the three beta schedules", points=1)
def test_figures_schedules(figures: FigureTests) -> None:
    figures.expect("2")


@graded("2.2-2.3 time-conditioned DDPM: loss falls; samples are legible digits; sampling GIF", points=2)
def test_figures_ddpm_time(figures: FigureTests) -> None:
    figures.expect("2.2", "2.3")


@graded("2.4-2.5 class-conditioned DDPM: loss falls; column k is digit k; sampling GIF", points=3,
        when=when("columns_are_digits", COLUMNS))
def test_figures_ddpm_class(figures: FigureTests) -> None:
    figures.expect("2.4", "2.5")


@graded("FM 2.2-2.3 time-conditioned flow matching: loss falls; samples are legible digits; GIF", points=2)
def test_figures_fm_time(figures: FigureTests) -> None:
    figures.expect("FM 2.2", "FM 2.3")


@graded("FM 2.5-2.6 class-conditioned flow matching (with and without scheduler): column k is digit k", points=3,
        when=when("columns_are_digits", COLUMNS))
def test_figures_fm_class(figures: FigureTests) -> None:
    figures.expect("FM 2.5", "FM 2.6")
