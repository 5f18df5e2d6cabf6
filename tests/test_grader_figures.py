"""The figure checks: the tile finder on grids drawn like the deliverables (several zooms and
layouts, wrong ones refused), each content check on good and bad inputs, reading deliverables
from a submission, and grading: the reference's quick-profile deliverables get every figure
point; blank, swapped and pure-noise figures lose theirs with the reason; no figures/ folder
gives one line and no crash; figures without the weights that made them, or with weights that
did not make them, earn nothing."""

from __future__ import annotations

import inspect
import io
import json
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.utils import make_grid

from grader import data as mnist_data
from grader.figures import checks
from grader.figures.copies import nearest_mnist
from grader.figures.images import FigureProblem, decode
from grader.figures.judge import _load_classifier, load_manifest, thresholds
from grader.figures.models import RUNS
from grader.figures.tiles import LayoutError, expect_layout, find_tiles
from grader.results import fence
from grader.rubric import load_rubric
from grader.run import grade
from grader.submission import load_submission
from grader.submission.deliverables import MAX_FILE, NONE_FOUND, load_deliverables, none_found
from solution.figures import save_gif, save_grid, save_loss_curve, save_losses_json
from tests.grader_fixtures.grading import FIGURE_TESTS, ROOT, run_cli, validate, workdir
from tools import deliverables_cache

MANIFEST = {f["id"]: f for f in load_manifest()}
def _th(check: str, fig_id: str = "") -> dict:
    """The thresholds figure `fig_id` adds to `check`'s defaults (none for another check, or no figure)."""
    return thresholds(MANIFEST[fig_id], check) if fig_id else {}


def _grid(images: torch.Tensor, cols: int, zoom: int, padding: int = 2) -> np.ndarray:
    """A grid drawn as the deliverables draw it (make_grid, white separators, integer zoom), in [0, 1]."""
    grid = make_grid(images.float().clamp(0, 1), nrow=cols, padding=padding, pad_value=1.0)
    arr = (grid[0].numpy() * 255).round().astype(np.uint8)
    return np.kron(arr, np.ones((zoom, zoom), dtype=np.uint8)) / 255.0


def _quantized(images: torch.Tensor, rows: int, cols: int) -> np.ndarray:
    return ((images.clamp(0, 1).numpy() * 255).round() / 255).reshape(rows, cols, 28, 28)


def _noised(x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """(digits, sigmas) grid of x + sigma * noise, clamped: the noising figure's content."""
    gen = torch.Generator().manual_seed(1)
    eps = torch.randn(x.shape, generator=gen)
    return torch.stack([(x + s * eps).clamp(0, 1) for s in sigmas], dim=1).flatten(0, 1)


def _png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((arr * 255).round().astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


# -- the tile finder --------------------------------------------------------------------------


@pytest.mark.parametrize(("zoom", "rows", "cols"), [(1, 2, 8), (2, 4, 10), (3, 3, 7), (4, 6, 7), (5, 1, 3)])
def test_tiles_are_found_at_any_zoom_and_layout(zoom: int, rows: int, cols: int, mnist_test) -> None:
    images = mnist_test[0][: rows * cols]
    tiles = find_tiles(_grid(images, cols, zoom))
    assert tiles.shape == (rows, cols, 28, 28)
    np.testing.assert_allclose(tiles, _quantized(images, rows, cols), atol=1e-9)


def test_noise_tiles_are_found(mnist_test) -> None:
    images = _noised(mnist_test[0][:4], [0, 0.4, 1.0, 2.0])
    np.testing.assert_allclose(find_tiles(_grid(images, 4, 2)), _quantized(images, 4, 4), atol=1e-9)


def test_tiles_are_found_in_a_labelled_figure(tmp_path: Path, mnist_test) -> None:
    """save_grid (the deliverables' figure code): title, column and row labels around the grid."""
    images = _noised(mnist_test[0][:3], [0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0])
    path = tmp_path / "grid.png"
    save_grid(images, path, 7, "a title", [f"σ={s}" for s in range(7)], ["noisy", "denoised"] * 3)
    tiles = find_tiles(decode(path.read_bytes(), path.name)[0])
    np.testing.assert_allclose(tiles, _quantized(images, 3, 7), atol=1.01 / 255)  # matplotlib's gray map: +-1 level


def test_a_wrong_layout_is_named(mnist_test) -> None:
    tiles = find_tiles(_grid(mnist_test[0][:24], 8, 2))
    expect_layout(tiles, 3, 8)
    with pytest.raises(LayoutError, match=r"found 3 rows x 8 columns of tiles, expected 4 x 8"):
        expect_layout(tiles, 4, 8)


def test_images_that_are_not_tile_grids_are_refused(tmp_path: Path, mnist_test) -> None:
    images = mnist_test[0][:8]
    no_separators = _grid(images, 4, 2, padding=0)
    resized = np.asarray(Image.fromarray((_grid(images, 4, 2) * 255).astype(np.uint8)).resize((183, 93))) / 255
    padded = _grid(torch.nn.functional.pad(images, (2, 2, 2, 2)), 4, 2)  # 32 x 32 tiles
    noise = np.random.default_rng(0).random((200, 300))
    save_loss_curve(np.linspace(1, 0.1, 100), tmp_path / "loss.png", "loss")
    plot = decode((tmp_path / "loss.png").read_bytes(), "loss.png")[0]
    for arr in (no_separators, resized, padded, noise, plot):
        with pytest.raises(LayoutError, match="no grid of 28x28 tiles"):
            find_tiles(arr)
    with pytest.raises(LayoutError, match="blank"):
        find_tiles(np.ones((100, 100)))


# -- reading files ------------------------------------------------------------------------------


def _huge_png() -> bytes:
    """A valid PNG header declaring 100000 x 100000 pixels (40 GB decoded): refused before decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (100_000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def test_unreadable_huge_or_blank_files_are_refused() -> None:
    gif = io.BytesIO()
    Image.new("L", (64, 64)).save(gif, format="GIF")
    cases = {
        b"not an image": "not a readable PNG",
        gif.getvalue(): "not a readable PNG",  # a GIF named .png
        _huge_png(): "far more pixels than a figure has",
        _png_bytes(np.eye(5000, 4000)): "4000x5000 pixels",  # width x height: 20 M pixels
        _png_bytes(np.ones((60, 80))): "blank",
        _png_bytes(np.full((60, 80), 0.3)): "blank",
    }
    for data, message in cases.items():
        with pytest.raises(FigureProblem, match=message):
            decode(data, "x.png")
    # An animation whose frames are each allowed, but not all of them together: refused from its
    # header, before any frame is decoded (100 frames of 1000x1000 compress to a small file).
    bomb = io.BytesIO()
    frames = [Image.new("L", (1000, 1000), v) for v in range(100)]
    frames[0].save(bomb, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(FigureProblem, match="100 frames of 1000x1000 pixels: more than"):
        decode(bomb.getvalue(), "x.gif")


# -- the checks -------------------------------------------------------------------------------


def test_noise_grows_along_columns(mnist_test) -> None:
    sigmas = [0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0]
    tiles = _quantized(_noised(mnist_test[0][:4], sigmas), 4, 7)
    assert checks.noise_grows_along_columns(tiles, **_th("noise_grows_along_columns")).passed
    reversed_ = checks.noise_grows_along_columns(tiles[:, ::-1], **_th("noise_grows_along_columns"))
    assert not reversed_.passed and "rank correlation with the column -1.00" in reversed_.message
    clean = np.repeat(tiles[:, :1], 7, axis=1)
    assert not checks.noise_grows_along_columns(clean, **_th("noise_grows_along_columns")).passed


def _denoising(x: torch.Tensor, residual: float) -> np.ndarray:
    """Rows clean, noisy (sigma = 0.5), 'denoised' (clean plus `residual` noise)."""
    gen = torch.Generator().manual_seed(2)
    noisy = (x + 0.5 * torch.randn(x.shape, generator=gen)).clamp(0, 1)
    denoised = (x + residual * torch.randn(x.shape, generator=gen)).clamp(0, 1)
    return _quantized(torch.cat([x, noisy, denoised]), 3, len(x))


def test_denoised_rows(mnist_test) -> None:
    x = mnist_test[0][:8]
    epoch1, epoch5 = _denoising(x, 0.15), _denoising(x, 0.05)
    assert checks.denoised_close_to_clean(epoch1, **_th("denoised_close_to_clean")).passed
    swapped = checks.denoised_close_to_clean(epoch1[[0, 2, 1]], **_th("denoised_close_to_clean"))
    assert not swapped.passed and "ratio" in swapped.message
    th = _th("denoised_closer_than_epoch1")
    assert checks.denoised_closer_than_epoch1(epoch5, epoch1, **th).passed
    worse = checks.denoised_closer_than_epoch1(epoch1, epoch5, **th)
    assert not worse.passed and "after epoch 1" in worse.message
    other = checks.denoised_closer_than_epoch1(epoch5, _denoising(mnist_test[0][8:16], 0.15), **th)
    assert not other.passed and "same digits" in other.message


def test_outputs_similar_to_each_other(mnist_test) -> None:
    noise = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    average = mnist_test[0][:100].mean(0, keepdim=True)
    th = _th("outputs_similar_to_each_other")
    converged = _quantized(torch.cat([noise, average.expand(8, -1, -1, -1) + 0.01 * noise]), 2, 8)
    assert checks.outputs_similar_to_each_other(converged, **th).passed
    assert not checks.outputs_similar_to_each_other(_quantized(torch.cat([noise, noise]), 2, 8), **th).passed
    flat = _quantized(torch.cat([noise, torch.zeros(8, 1, 28, 28)]), 2, 8)
    assert "not a flat tile" in checks.outputs_similar_to_each_other(flat, **th).message
    assert not checks.outputs_similar_to_each_other(flat, **th).passed


@pytest.fixture(scope="module")
def classify():
    return _load_classifier()


def _by_column(mnist_test) -> np.ndarray:
    """Four test digits of each class, column k holding digit k: a perfect class-conditioned grid."""
    x, y = mnist_test
    picks = torch.stack([torch.nonzero(y == d)[:4, 0] for d in range(10)], dim=1)  # (4, 10)
    return _quantized(x[picks.flatten()], 4, 10)


def test_classifier_checks(classify, mnist_test) -> None:
    grid = _by_column(mnist_test)
    th_cols, th_digits = _th("columns_are_digits"), _th("digits_present")
    assert checks.columns_are_digits(classify(grid), **th_cols).passed
    rolled = checks.columns_are_digits(classify(np.roll(grid, 1, axis=1)), **th_cols)
    assert not rolled.passed and "0% of the tiles" in rolled.message
    assert checks.digits_present(grid, classify(grid), **th_digits).passed
    noise = np.random.default_rng(0).random((4, 10, 28, 28))
    smooth = (noise + np.roll(noise, 1, -1) + np.roll(noise, 1, -2) + np.roll(noise, (1, 1), (-2, -1))) / 4
    for bad in (noise, smooth, np.zeros_like(noise), np.ones_like(noise)):
        assert not checks.digits_present(bad, classify(bad), **th_digits).passed
        assert not checks.columns_are_digits(classify(bad), **th_cols).passed


def test_copies_and_near_copies_of_mnist_digits_are_found(mnist_test, quick: Path) -> None:
    """Test digits as they are, and shifted, blurred, dimmed or lightly noised, fail not_copies; the
    reference's own samples pass it."""
    import torch.nn.functional as F

    th = _th("not_copies")
    x = torch.as_tensor(_by_column(mnist_test)).reshape(40, 28, 28)
    exact = checks.not_copies(nearest_mnist(x.numpy()), **th)
    assert not exact.passed and "100% of the tiles are copies" in exact.message, exact.message
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    altered = {
        "shifted": torch.roll(x, (1, -2), dims=(1, 2)),
        "blurred": F.avg_pool2d(x[:, None], 3, 1, 1, count_include_pad=False)[:, 0],
        "dimmed": 0.8 * x,
        "noised": (x + 0.1 * noise).clamp(0, 1),
        "shifted and blurred": F.avg_pool2d(torch.roll(x, (1, 1), dims=(1, 2))[:, None], 3, 1, 1,
                                            count_include_pad=False)[:, 0],
    }
    for name, tiles in altered.items():
        verdict = checks.not_copies(nearest_mnist(tiles.numpy()), **th)
        assert not verdict.passed and "copies of MNIST images" in verdict.message, (name, verdict.message)
    for fig in ("ddpm_class_epoch20", "fm_class_epoch10", "ddpm_time_epoch20"):
        path = quick / "figures" / MANIFEST[fig]["file"]
        verdict = checks.not_copies(nearest_mnist(find_tiles(decode(path.read_bytes(), path.name)[0])), **th)
        assert verdict.passed, (fig, verdict.message)


def test_animated_and_loss_checks() -> None:
    th = _th("animated")
    frames = [np.full((60, 60), v) for v in np.linspace(0, 1, 12)]
    assert checks.animated(frames, **th).passed
    assert not checks.animated(frames[:3], **th).passed
    assert not checks.animated([frames[0]] * 12, **th).passed
    th = _th("loss_falls")
    falling = list(np.exp(-np.linspace(0, 3, 150)) + 0.01 * np.random.default_rng(0).random(150))
    assert checks.loss_falls(falling, 30, 5, **th).passed
    per_epoch = checks.loss_falls(falling[::30], 1, 5, **th)
    assert not per_epoch.passed and "per-iteration" in per_epoch.message
    assert not checks.loss_falls(falling[::-1], 30, 5, **th).passed
    assert not checks.loss_falls(falling[:100], 30, 5, **th).passed  # fewer than 5 epochs of iterations


def test_plots_must_look_like_plots(tmp_path: Path) -> None:
    save_loss_curve(np.linspace(1, 0.1, 100), tmp_path / "loss.png", "loss")
    assert checks.present(decode((tmp_path / "loss.png").read_bytes(), "loss.png")[0], **_th("present")).passed
    noise = np.random.default_rng(0).random((200, 300))
    assert not checks.present(noise, **_th("present")).passed


def test_every_check_of_the_manifest_has_its_thresholds_beside_it() -> None:
    """Each check the manifest names is a function of checks.py whose thresholds all have defaults; a figure's
    own thresholds name parameters of its check; the shipped JSON manifest is the one solution/manifest.py makes."""
    looks = {n for n, p in inspect.signature(checks.digit_like).parameters.items() if p.default is not p.empty}
    for fig in MANIFEST.values():
        params = inspect.signature(getattr(checks, fig["check"])).parameters
        bounds = {n for n, p in params.items() if p.default is not p.empty and n != "rows"}
        bounds |= looks if fig["check"] == "digits_present" else set()
        assert bounds and set(fig.get("thresholds", {})) <= bounds, fig["id"]
    assert MANIFEST["ddpm_time_epoch5"]["thresholds"] == {"min_fraction": 0.1}  # an override reaches the JSON
    assert thresholds(MANIFEST["ddpm_time_epoch5"], "not_copies") == {}  # and applies to its own check only


# -- reading deliverables -----------------------------------------------------------------------


def _submission_with_figures(root: Path) -> Path:
    """solution's modules, and figures/ + losses/ + weights/ (+ checkpoints/, ignored) beside them."""
    root.mkdir(parents=True)
    for p in (ROOT / "solution").glob("*.py"):
        shutil.copy(p, root / p.name)
    (root / "figures").mkdir()
    (root / "losses").mkdir()
    (root / "checkpoints").mkdir()
    (root / "weights").mkdir()
    (root / "figures" / "a.png").write_bytes(_png_bytes(np.eye(40)))
    (root / "figures" / "notes.txt").write_text("not a figure")
    (root / "figures" / "huge.png").write_bytes(b"\0" * (MAX_FILE["figures"] + 1))
    (root / "weights" / "denoiser.pt").write_bytes(b"\0" * 100)
    (root / "weights" / "huge.pt").write_bytes(b"\0" * (MAX_FILE["weights"] + 1))
    (root / "weights" / "run.py").write_text("not read")
    (root / "losses" / "denoiser.json").write_text(json.dumps({"losses": [1.0], "iters_per_epoch": 1}))
    (root / "checkpoints" / "x.pt").write_bytes(b"\0" * 100)
    return root


def test_deliverables_are_read_beside_the_modules_in_a_folder_and_a_zip(tmp_path: Path) -> None:
    folder = _submission_with_figures(workdir("with-figures") / "hw")
    path = tmp_path / "hw.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for p in folder.rglob("*"):
            zf.write(p, p.relative_to(folder.parent).as_posix())
    for sub in (load_submission(folder), load_submission(path)):
        assert sub.deliverables is not None and not sub.rejected
        assert set(sub.deliverables.files) == {"figures/a.png", "losses/denoiser.json", "weights/denoiser.pt"}
        assert "more than the 8 MB" in sub.deliverables.skipped["figures/huge.png"]
        assert "more than the 40 MB" in sub.deliverables.skipped["weights/huge.pt"]
    assert load_submission(ROOT / "notebooks" / "solution.ipynb").deliverables is None  # notebooks: no default
    assert load_deliverables(folder).where == f"figures/ in {folder}"
    with pytest.raises(FileNotFoundError, match="no figures/ folder"):
        load_deliverables(ROOT / "solution")


def test_a_missing_figures_folder_is_a_usage_error() -> None:
    g = run_cli("solution", "no-figures-dir", "--figures", str(ROOT / "no-such-folder"), "--tests", "figures")
    assert g.returncode == 2 and "no such figures folder" in g.stderr and not g.results


# -- grading ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def quick() -> Path:
    """The reference's quick-profile deliverables: the shipped copy while it is current, else trained once
    per checkout and inputs (see tools/deliverables_cache.py and tests/test_quick_deliverables.py)."""
    return deliverables_cache.ensure()


def _copy(quick: Path, name: str, parts: tuple[str, ...] = ("figures", "losses", "weights")) -> Path:
    out = workdir("figure-variants") / name
    for sub in parts:
        shutil.copytree(quick / sub, out / sub, dirs_exist_ok=True)
    return out


def _grade(name: str, submission: Path | str = "solution", figures: Path | None = None, tests: str = "figures") -> dict:
    out = workdir("figure-grades") / name
    grade(submission, out, tests=tests, figures=figures)
    results = json.loads((out / "results.json").read_text())
    validate(results)
    return {"by_id": {t["extra_data"]["id"]: t for t in results["tests"]}, "results": results, "out": out}


def _redraw(path: Path, change) -> None:
    """Redraw a grid figure with its tiles changed by `change` ((rows, cols, 28, 28) -> same)."""
    tiles = change(find_tiles(decode(path.read_bytes(), path.name)[0]))
    save_grid(torch.as_tensor(tiles.reshape(-1, 1, 28, 28).copy()), path, tiles.shape[1])


def test_figures_are_found_beside_the_modules(quick: Path) -> None:
    """Picked up from the submission itself: figures/, losses/ and weights/ beside the modules (the two
    figure tests that need no model: test_make_grade_... grades every figure of the shipped copy)."""
    sub = workdir("reference-with-figures") / "hw"
    sub.mkdir()
    for p in (ROOT / "solution").glob("*.py"):
        shutil.copy(p, sub / p.name)
    for folder in ("figures", "losses", "weights"):
        shutil.copytree(quick / folder, sub / folder, dirs_exist_ok=True)
    g = _grade("reference", sub, tests="test_figures_noising,test_figures_schedules")
    assert all(t["status"] == "passed" for t in g["by_id"].values()) and len(g["by_id"]) == 2
    assert "figures/ in the submission" in (g["out"] / "report.html").read_text()


@pytest.mark.slow
def test_blank_figures_lose_every_point(quick: Path) -> None:
    out = _copy(quick, "blank")
    for path in (out / "figures").iterdir():
        with Image.open(path) as im:
            blank = Image.new("L", im.size, 255)
        blank.save(path, format=path.suffix[1:].upper())
    g = _grade("blank", figures=out)
    assert g["results"]["score"] == 0
    for test in g["by_id"].values():
        assert test["status"] == "failed" and "is blank" in test["output"], test["output"]


@pytest.mark.slow
def test_swapped_figures_lose_their_parts(quick: Path) -> None:
    out = _copy(quick, "swapped")
    fig = out / "figures"
    e1, e5 = fig / MANIFEST["denoiser_epoch1"]["file"], fig / MANIFEST["denoiser_epoch5"]["file"]
    e1_bytes = e1.read_bytes()
    e1.write_bytes(e5.read_bytes())
    e5.write_bytes(e1_bytes)
    _redraw(fig / MANIFEST["noising"]["file"], lambda t: t[:, ::-1])  # sigma falls left to right
    _redraw(fig / MANIFEST["ddpm_class_epoch20"]["file"], lambda t: t[:, ::-1])  # digits 9 .. 0
    # the parts with a swapped figure, and one without (the model checks of the others cost time, prove nothing here)
    g = _grade("swapped", figures=out, tests="test_figures_noising,test_figures_denoiser,test_figures_ddpm_class,"
               "test_figures_fm_time")
    expected = {
        "test_figures_noising": "1_2_noising.png (noise_grows_along_columns): noise per column",
        "test_figures_denoiser": "1_2_1_epoch5.png (denoised_closer_than_epoch1): denoised-to-clean mean squared",
        "test_figures_ddpm_class": "2_5_ddpm_class_epoch20.png (columns_are_digits): ",
    }
    failed = {k: t["output"] for k, t in g["by_id"].items() if t["status"] == "failed"}
    assert set(failed) == set(expected), failed
    for test, message in expected.items():
        assert failed[test].removeprefix("```text\n").startswith(message), failed[test]  # the message, fenced
    checks_failed = g["by_id"]["test_figures_ddpm_class"]["extra_data"]["failed_checks"]
    assert checks_failed == [f"{MANIFEST['ddpm_class_epoch20']['file']} (columns_are_digits)"]
    assert "so that column k holds digit k" in g["by_id"]["test_figures_ddpm_class"]["output"]  # the hint


@pytest.mark.slow
def test_pure_noise_figures_lose_every_point(quick: Path) -> None:
    out = _copy(quick, "noise")
    rng = np.random.default_rng(0)
    for fig in MANIFEST.values():
        path = out / "figures" / fig["file"]
        with Image.open(path) as im:
            size = im.size
        if fig["kind"] == "grid":  # the right layout, tiles of noise
            noise = torch.as_tensor(rng.random((fig["rows"] * fig["cols"], 1, 28, 28)), dtype=torch.float32)
            save_grid(noise, path, fig["cols"])
        elif fig["kind"] == "gif":
            save_gif([torch.as_tensor(rng.random((40, 1, 28, 28)), dtype=torch.float32)] * 12, path, 10)
        else:
            Image.fromarray((rng.random(size[::-1]) * 255).astype(np.uint8)).save(path)
    for run in {f["run"] for f in MANIFEST.values() if f["kind"] == "loss"}:  # a flat, noisy log
        save_losses_json(list(1 + 0.1 * rng.random(2000)), out / "losses" / f"{run}.json", run, 100)
    g = _grade("noise", figures=out)
    assert g["results"]["score"] == 0
    assert all(t["status"] == "failed" for t in g["by_id"].values())
    outputs = "\n".join(t["output"] for t in g["by_id"].values())
    for message in ("rank correlation", "white background", "look like digits", "column's digit", "spread between"):
        assert message in outputs


@pytest.mark.slow
def test_sample_grids_made_of_mnist_digits_lose_their_points(quick: Path) -> None:
    """A forged deliverable: every grid of samples redrawn with real MNIST test digits, in the right
    layout (class-conditioned columns hold their digit), which the classifier reads perfectly. The
    copies are found (nearest MNIST image) and those figures earn nothing; the rest keep theirs."""
    images, labels = mnist_data.mnist_uint8(train=False)
    out = _copy(quick, "mnist-digits")
    forged = {fid: fig for fid, fig in MANIFEST.items() if fig["check"] in ("digits_present", "columns_are_digits")}
    for fig in forged.values():
        n, cols = fig["rows"] * fig["cols"], fig["cols"]
        if fig["check"] == "columns_are_digits":
            idx = torch.stack([(labels == k % cols).nonzero()[k // cols][0] for k in range(n)])
        else:
            idx = torch.arange(n)
        save_grid(images[idx].float() / 255, out / "figures" / fig["file"], cols)
    g = _grade("mnist-digits", figures=out)
    verdicts = {v["id"]: v for v in g["results"]["extra_data"]["figures"]}
    for fid in forged:
        assert not verdicts[fid]["passed"] and "copies of MNIST images" in verdicts[fid]["message"], verdicts[fid]
    assert all(v["passed"] for fid, v in verdicts.items() if fid not in forged)
    failed = {t for t, r in g["by_id"].items() if r["status"] == "failed"}
    assert failed == {"test_figures_ddpm_time", "test_figures_ddpm_class", "test_figures_fm_time",
                      "test_figures_fm_class"}, failed


@pytest.mark.slow
def test_figures_without_weights_lose_their_points(quick: Path) -> None:
    """The reference's own figures and loss logs, uploaded without weights/: no model stands behind
    them, so only the figures no model makes (the noising grid, the schedules plot) keep their points."""
    out = _copy(quick, "no-weights", ("figures", "losses"))
    g = _grade("no-weights", figures=out)
    passed = {t for t, r in g["by_id"].items() if r["status"] == "passed"}
    assert passed == {"test_figures_noising", "test_figures_schedules"}, passed
    for test, r in g["by_id"].items():
        if test not in passed:
            assert "(model_behind_figures): weights/" in r["output"] and "is missing" in r["output"], r["output"]


@pytest.mark.slow
def test_weights_that_did_not_make_the_figures_lose_their_points(quick: Path) -> None:
    """The reference's figures with weights that cannot have made them: an untrained denoiser, the
    denoiser's weights sold as the pure-noise run's, an untrained class-conditioned flow model, a
    time-only DDPM's weights with the wrong width in their settings. Those parts fail with the
    measurement that failed; the parts whose weights are right keep their points."""
    from solution.unet import ClassConditionalUNet, UnconditionalUNet

    out = _copy(quick, "foreign-weights")
    w = out / "weights"
    torch.manual_seed(0)
    torch.save(UnconditionalUNet(1, 16).state_dict(), w / "denoiser.pt")
    shutil.copy(quick / "weights" / "denoiser.pt", w / "purenoise.pt")
    torch.save(ClassConditionalUNet(1, 10, 16).state_dict(), w / "fm_class.pt")
    settings = json.loads((w / "ddpm_time.json").read_text())
    (w / "ddpm_time.json").write_text(json.dumps({**settings, "num_hiddens": 8}))
    failing = ("test_figures_denoiser", "test_figures_out_of_distribution", "test_figures_pure_noise",
               "test_figures_fm_class", "test_figures_ddpm_time")
    g = _grade("foreign-weights", figures=out, tests=",".join((*failing, "test_figures_fm_time")))  # and a control
    failed = {t: r["output"] for t, r in g["by_id"].items() if r["status"] == "failed"}
    assert set(failed) == set(failing), failed
    assert "on held-out digits" in failed["test_figures_denoiser"], failed["test_figures_denoiser"]
    assert "on pure-noise inputs" in failed["test_figures_pure_noise"], failed["test_figures_pure_noise"]
    assert "could not be used" in failed["test_figures_ddpm_time"], failed["test_figures_ddpm_time"]
    assert "weights/fm_class.pt" in failed["test_figures_fm_class"], failed["test_figures_fm_class"]


def test_no_figures_folder_gives_one_line_and_completes() -> None:
    g = _grade("none")
    assert g["results"]["score"] == 0 and set(g["by_id"]) == FIGURE_TESTS
    assert all(t["output"] == fence(none_found()) for t in g["by_id"].values())
    assert NONE_FOUND in (g["out"] / "report.html").read_text()


@pytest.mark.slow
def test_make_grade_grades_the_reference_with_its_shipped_figures(tmp_path: Path) -> None:
    """`make grade` on a fresh clone: the reference's figures are the shipped quick deliverables, and
    the output says so. Every figure passes, and so does the model behind each run's figures, measured
    once per run; the reports show the figures and the samples the grader drew."""
    if deliverables_cache.shipped_key() != deliverables_cache.cache_key():
        pytest.fail("assets/quick-deliverables/ is stale: run `make reference-deliverables`")
    proc = subprocess.run(["make", "--no-print-directory", "grade", "TESTS=figures", f"OUT={tmp_path}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "shipped in assets/quick-deliverables/" in proc.stdout
    assert "Figures: figures/ in assets/quick-deliverables" in proc.stdout, proc.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    validate(results)
    by_id = {t["extra_data"]["id"]: t for t in results["tests"]}
    assert set(by_id) == FIGURE_TESTS
    failed = {k: t["output"] for k, t in by_id.items() if t["status"] != "passed"}
    assert not failed, failed
    assert results["score"] == sum(e.points for e in load_rubric().entries.values() if e.part == "figures") > 0
    verdicts = results["extra_data"]["figures"]
    figures = [v["id"] for v in verdicts if v["check"] != "model_behind_figures"]
    models = {v["id"]: v for v in verdicts if v["check"] == "model_behind_figures"}
    assert figures == list(MANIFEST) and all(v["passed"] for v in verdicts)
    assert set(models) == {f"{run}_model" for run in RUNS}  # every run's weights, measured once
    sampled = [m for m in models.values() if "samples drawn with the grader's seed" in m["message"]]
    assert len(sampled) == 5 and all("checked in" in m["message"] for m in models.values())
    html = (tmp_path / "report.html").read_text()
    images = html.count('src="data:image/png;base64,') + html.count('src="data:image/gif;base64,')
    assert images == len(MANIFEST) + len(sampled)  # the figures, and the samples the grader drew
    assert "columns_are_digits" in html and "model_behind_figures" in html
    assert f"{len(verdicts)} of {len(verdicts)} passed" in (tmp_path / "report.md").read_text()
