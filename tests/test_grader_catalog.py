"""The catalog's foundations, checked without grading anything: the rubric is the catalog's
declarations and follows its rules, the grader's own reference formulas agree with the reference solution, and every
known mistake is told apart from the right answer (or its hint could never fire)."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import torch

from grader.checks import inputs, unet_counts
from grader.checks import misconceptions as wrong
from grader.checks import reference as ref
from grader.rubric import VISIBILITIES, RubricError, load_rubric, misconceptions_named, mistake_labels
from grader.worker.mocks import make_mock
from solution import diffusion, flow, schedules
from solution import unet as U

CATALOG = Path(__file__).resolve().parents[1] / "grader" / "catalog"


def test_every_catalog_test_is_declared_once_with_its_points() -> None:
    """The rubric is the catalog's declarations: every test function of every catalog file is in it, the
    contract's or a course dialect's (grader/dialects/), and the contract's are all of those not declared
    for some dialects only."""
    rubric = load_rubric()
    functions = [node.name for path in CATALOG.glob("test_*.py") for node in ast.parse(path.read_text()).body
                 if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    assert sorted(functions) == sorted([*rubric.entries, *rubric.other_dialects])
    assert len(set(functions)) == len(functions)
    assert not rubric.not_applicable and all(e.dialects is None for e in rubric.entries.values())
    assert all(e.dialects and "contract" not in e.dialects for e in rubric.other_dialects.values())


def test_rubric_rules() -> None:
    """Rules, not totals: a test earns points, has a title, a known visibility and a unique name; every
    part has a test students can see; numbers follow the report's order (part, then file order)."""
    rubric = load_rubric()
    assert all(e.visibility in VISIBILITIES and e.points > 0 and e.title for e in rubric.entries.values())
    for n, part in enumerate(rubric.parts, start=1):
        mine = [e for e in rubric.entries.values() if e.part == part]
        assert any(e.public for e in mine), part  # each part ships at least one public test to students
        assert [e.number for e in mine] == [f"{n}.{i}" for i in range(1, len(mine) + 1)]
    assert rubric.max_score == sum(e.points for e in rubric.entries.values())


def test_the_mistakes_a_test_can_name_are_read_from_its_code(tmp_path: Path) -> None:
    """Through the helpers of its file too; every group of known mistakes is named by some test, and the
    labels read statically are the ones the functions compute."""
    entries = load_rubric().entries
    assert entries["test_q_sample_closed_form"].misconceptions == ("q_sample",)  # through _check
    assert entries["test_p_losses_unet_inputs"].misconceptions == ("q_sample",)
    assert entries["test_add_noise_default"].misconceptions == ()
    groups = [n.name for n in ast.parse(Path(wrong.__file__).read_text()).body
              if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
    assert sorted(groups) == sorted({m for e in entries.values() for m in e.misconceptions})
    x0, noise, t = inputs.images(2), inputs.noise(2), inputs.steps([5, 7])
    assert mistake_labels("q_sample") == list(wrong.q_sample(x0, t, ref.schedule(300), noise))
    # A new test calling a helper that calls another misconceptions group names it.
    file = tmp_path / "test_1_x.py"
    file.write_text("from grader.checks import misconceptions as bad\n"
                    "def _inner(): return bad.fm_sample\n"
                    "def _outer(): return _inner()\n"
                    "@graded('t', points=1)\n"
                    "def test_x(student): _outer(); bad.guidance\n")
    assert misconceptions_named(file) == {"test_x": ("guidance", "fm_sample")}


@pytest.mark.parametrize("decorator, message", [
    ("", "is not declared with @graded"),
    ("@graded(TITLE, points=2)", "title must be a literal"),
    ('@graded("t", points=-1)', "points must be a number >= 0"),
    ('@graded("t", points=1, visibility="secret")', "visibility must be one of"),
    ('@graded("", points=1)', "a title is required"),
])
def test_a_bad_declaration_is_named(tmp_path: Path, decorator: str, message: str) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG, catalog)
    rubric = tmp_path / "rubric.toml"
    shutil.copy(CATALOG.parent / "rubric.toml", rubric)
    with open(catalog / "test_3_schedules.py", "a") as f:
        f.write(f"\n\n{decorator}\ndef test_new(student):\n    pass\n")
    with pytest.raises(RubricError, match=message):
        load_rubric(rubric)
    (catalog / "test_3_schedules.py").write_text((CATALOG / "test_3_schedules.py").read_text())
    (catalog / "test_99_extra.py").write_text("")
    with pytest.raises(RubricError, match="test_<n>_<name>.py"):
        load_rubric(rubric)


def test_parameter_counts_match_the_handout_and_the_solution() -> None:
    assert unet_counts.total("UnconditionalUNet", 1, 128) == 7_891_073
    assert unet_counts.total("TimeConditionalUNet", 1, 64) == 1_996_417
    assert unet_counts.total("ClassConditionalUNet", 1, 64) == 2_019_201
    for name in unet_counts.BLOCKS:
        args = (3, 8) if name == "UnconditionalUNet" else (3, 10, 8)
        model = getattr(U, name)(*args)
        assert sum(p.numel() for p in model.parameters()) == unet_counts.total(name, 3, 8)
        kinds = [type(m).__name__ for m in model.modules()]
        assert {k: kinds.count(k) for k in ("BatchNorm2d", "GELU")} == unet_counts.layer_counts(name)


def test_reference_schedules_match_the_solution() -> None:
    torch.testing.assert_close(ref.linear_betas(1e-4, 0.02, 300), schedules.linear_beta_schedule().double())
    torch.testing.assert_close(ref.cosine_betas(300), schedules.cosine_beta_schedule().double(), rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(ref.sigmoid_betas(1e-4, 0.02, 300), schedules.sigmoid_beta_schedule().double())
    mine, theirs = ref.schedule(300), schedules.ddpm_schedule()
    for key in ("betas", "alphas", "alpha_bars"):
        torch.testing.assert_close(mine[key], theirs[key])


def test_reference_diffusion_matches_the_solution() -> None:
    sched, t = ref.schedule(300), inputs.steps([0, 3, 150, 299])
    x, noise, c = inputs.images(4), inputs.noise(4), inputs.one_hot([1, 2, 3, 4])
    torch.testing.assert_close(ref.q_sample(x, t, sched, noise).float(), diffusion.q_sample(x, t, sched, noise))
    mock = make_mock({}, "cpu")
    eps = ref.guided_eps(x, t / 300, c, 5.0)
    torch.testing.assert_close(ref.p_sample(x, t, sched, eps, noise).float(),
                               diffusion.p_sample(mock, x, t, sched, z=noise, c=c, guidance_scale=5.0))
    start = inputs.noise(2)
    velocity = lambda y, s: ref.mock_eps(y, s)
    manual = start.clone()
    for i in range(10):
        manual = manual + mock(manual, torch.full((2,), i / 10)) / 10
    torch.testing.assert_close(ref.euler(start, 10, velocity).float(), manual.detach())
    torch.testing.assert_close(ref.fm_interpolate(start, x[:2], 0.3).float(), flow.fm_interpolate(start, x[:2], 0.3))


def _distinct(right: torch.Tensor, mistakes: dict[str, torch.Tensor]) -> None:
    """Every mistake differs from the right answer and from every other mistake."""
    values = [("right", torch.as_tensor(right).double())]
    values += [(k, torch.as_tensor(v).double()) for k, v in mistakes.items()]
    for i, (a, va) in enumerate(values):
        for b, vb in values[i + 1 :]:
            same = va.shape == vb.shape and torch.allclose(va, vb, rtol=1e-4, atol=1e-5)
            assert not same, f"{a!r} and {b!r} give the same answer: the hint cannot tell them apart"


@pytest.mark.parametrize("case", ["q_sample", "p_losses", "p_sample", "guidance", "schedules", "flow"])
def test_known_mistakes_are_distinguishable(case: str) -> None:
    sched, t = ref.schedule(300), inputs.steps([150, 10, 299])
    x, noise = inputs.images(3), inputs.noise(3)
    if case == "q_sample":
        _distinct(ref.q_sample(x, t, sched, noise), wrong.q_sample(x, t, sched, noise))
    elif case == "p_losses":
        x_t = ref.q_sample(x, t, sched, noise)
        right = torch.nn.functional.mse_loss(ref.mock_eps(x_t, t / 300), noise.double())
        _distinct(right, wrong.p_losses(x, t, sched, noise))
    elif case == "p_sample":
        steps = inputs.steps([0, 50, 299])
        eps = ref.mock_eps(x, steps / 300)
        _distinct(ref.p_sample(x, steps, sched, eps, noise),
                  wrong.p_sample(x, steps, sched, noise, eps, ref.mock_eps(x, steps.double())))
    elif case == "guidance":
        c = inputs.one_hot([1, 2, 3])
        eps_c, eps_u = ref.mock_eps(x, t / 300, c), ref.mock_eps(x, t / 300, torch.zeros_like(c))
        _distinct(ref.cfg(eps_c, eps_u, 5.0), wrong.guidance(eps_c, eps_u, 5.0))
    elif case == "schedules":
        _distinct(ref.linear_betas(1e-4, 0.02, 300), wrong.linear_betas(1e-4, 0.02, 300))
        _distinct(ref.cosine_betas(300), wrong.cosine_betas(300))
        _distinct(ref.sigmoid_betas(1e-4, 0.02, 300), wrong.sigmoid_betas(1e-4, 0.02, 300))
        betas = ref.linear_betas(1e-4, 0.02, 300)
        _distinct(torch.cumprod(1 - betas, 0), wrong.alphas_and_bars(betas)["alpha_bars"])
    else:
        s = torch.tensor([0.1, 0.4, 0.7])
        x_t = ref.fm_interpolate(noise, x, s)
        right = torch.nn.functional.mse_loss(ref.mock_eps(x_t, s), (x - noise).double())
        _distinct(right, wrong.fm_forward(x, noise, s, 20))
        _distinct(ref.fm_interpolate(noise, x, 0.3), wrong.fm_interpolate(noise, x, 0.3))
        _distinct(ref.euler(noise, 20, ref.mock_eps), wrong.fm_sample(noise, 20, ref.mock_eps))


def test_a_sampler_giving_the_unet_unnormalised_times_is_the_student_s_failure() -> None:
    """Found by make mutation: t * T instead of t / T reached the grader as an index out of range, which
    the grader reported as its own failure. The times a UNet received are the student's evidence, never
    an index taken on trust."""
    from types import SimpleNamespace

    from grader.checks import plausible
    from grader.checks.expect import Mismatch

    sched, x = ref.schedule(40), torch.zeros(2, 1, 28, 28)
    for bad in (torch.full((2,), 39.0 * 40), torch.full((2,), -0.5), torch.full((2,), float("nan"))):
        records = [SimpleNamespace(x=x, t=bad), SimpleNamespace(x=x, t=bad)]
        with pytest.raises(Mismatch, match="the UNet (received t =|received no finite time)"):
            plausible.expect_reverse_chain(records, sched, 40, "ddpm_sample's steps")
