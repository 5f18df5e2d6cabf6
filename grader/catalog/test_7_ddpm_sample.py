"""7. The sampler: T reverse steps from t = T-1 down to 0, starting at N(0, I), seeded.
Checked with a mock UNet on a short schedule (T = 40)."""

from __future__ import annotations

import torch

from grader.checks import inputs, plausible
from grader.checks import misconceptions as wrong
from grader.checks import reference as ref
from grader.checks.expect import T0_TOL, Mismatch, expect_close, expect_tensor, expect_true
from grader.checks.stats import correlation, expect_standard_normal
from grader.plugin import graded, self_check
from grader.sandbox.student import Outcome, Student, mock

T = 40
SCHED = ref.schedule(T)


def _sample(student: Student, record_x: bool = False, seed: int = 0, worker_seed: int = 0, **kwargs) -> Outcome:
    sample = student.fn("diffusion.ddpm_sample", seed=worker_seed)
    kwargs = kwargs if "c" in kwargs else {"num_samples": 3, **kwargs}
    return sample(mock(record_x=record_x), SCHED, (28, 28), T, seed=seed, **kwargs)


@graded("ddpm_sample calls the UNet T times", points=2)
def test_ddpm_sample_calls(student: Student) -> None:
    records = _sample(student, record_x=True).records
    calls = len(records)
    hint = {T - 1: "one step short: the loop must include t = 0 (range(T - 1, -1, -1))",
            T + 1: "one step too many: t runs from T - 1 down to 0",
            2 * T: "two UNet calls per step without c: guidance needs c (c=None means no guidance)"}.get(calls)
    expect_true(calls == T, f"the number of UNet calls of ddpm_sample with T = {T} (time-only, num_samples=3)",
                f"  the UNet was called {calls} times, expected {T} (one per step)", hint)
    plausible.expect_reverse_chain(records, SCHED, T, "ddpm_sample's steps, from one UNet call to the next")


@graded("ddpm_sample goes from t = T-1 down to 0", points=2)
def test_ddpm_sample_timesteps(student: Student) -> None:
    records = _sample(student, record_x=True).records
    got = torch.tensor([float(r.t[0]) for r in records], dtype=torch.float64)
    k = torch.arange(T - 1, -1, -1, dtype=torch.float64)
    expect_close(got, k / T, f"the times the UNet received in ddpm_sample, call by call (T = {T})", {
        "ascending: sampling runs from t = T - 1 down to 0": k.flip(0) / T,
        "the integer t: the UNet gets t / T": k,
        "t runs T .. 1 instead of T - 1 .. 0": (k + 1) / T,
    }, atol=1e-6)
    plausible.expect_reverse_chain(records, SCHED, T, "ddpm_sample's steps, from one UNet call to the next")


@graded("ddpm_sample(frame_every=5) also returns the sampling GIF's frames", points=1)
def test_ddpm_sample_frames(student: Student) -> None:
    out = _sample(student, record_x=True, frame_every=5)
    inputs = [r.x for r in out.records if r.x is not None]
    plausible.expect_frames(out.value, inputs, 5, f"ddpm_sample(..., T = {T}, frame_every=5)")


@graded("ddpm_sample returns (len(c), 1, 28, 28)", points=1)
def test_ddpm_sample_shape(student: Student) -> None:
    c = inputs.one_hot([0, 1, 2, 3, 4])
    out = _sample(student, c=c, guidance_scale=5.0, record_x=True)
    what = "ddpm_sample(unet, sched, (28, 28), T, c=<5 classes>, guidance_scale=5)"
    got = expect_tensor(out.value, what, (5, 1, 28, 28))
    last = [r for r in out.records if r.x is not None and float(r.t.abs().max()) < 1e-9]
    expect_true(bool(last), what, "  the UNet was never called at t = 0")
    x, t0 = last[0].x[:5], inputs.steps([0] * 5)
    eps = ref.cfg(ref.mock_eps(x, t0 / T, c), ref.mock_eps(x, t0 / T, torch.zeros_like(c)), 5.0)
    plausible.expect_roughly(got, ref.posterior_mean(x, t0, SCHED, eps), f"{what}: the images vs its last step", 0.1)


@self_check("test_ddpm_sample_shape", points=2)
def public_ddpm_sample_one_image_per_class(hw, kit, class_net):
    out = hw.diffusion.ddpm_sample(class_net, kit.schedule(10), (28, 28), 10, seed=0, c=kit.one_hot([0, 1, 2]))
    assert isinstance(out, torch.Tensor), f"ddpm_sample returns a tensor, got {type(out).__name__}"
    assert out.shape == (3, 1, 28, 28), f"expected (len(c), 1, 28, 28) = (3, 1, 28, 28), got {tuple(out.shape)}"
    assert torch.isfinite(out).all()


@graded("ddpm_sample: same seed, same images; another seed, other images", points=1)
def test_ddpm_sample_seed(student: Student) -> None:
    c = inputs.one_hot([1, 2, 3])
    first = expect_tensor(_sample(student, c=c).value, "ddpm_sample(..., seed=0)", (3, 1, 28, 28))
    # Another global RNG state, same seed argument: the images must only depend on `seed`.
    again = _sample(student, c=c, worker_seed=123).value
    other = _sample(student, c=c, seed=1).value
    expect_true(isinstance(again, torch.Tensor) and torch.equal(first, again), "ddpm_sample(..., seed=0) twice",
                "  the images differ although the seed is the same",
                "draw all randomness (x_T and every z) from a torch.Generator seeded with `seed`")
    expect_true(isinstance(other, torch.Tensor) and not torch.equal(first, other), "ddpm_sample with seed=0 and seed=1",
                "  the images are identical: the seed argument is ignored")


@self_check("test_ddpm_sample_seed", points=2)
def public_ddpm_sample_is_reproducible_with_its_seed(hw, kit, time_net):
    run = lambda seed: hw.diffusion.ddpm_sample(time_net, kit.schedule(10), (28, 28), 10, seed=seed, num_samples=2)
    a = run(0)
    assert a.shape == (2, 1, 28, 28), f"expected (num_samples, 1, 28, 28) = (2, 1, 28, 28), got {tuple(a.shape)}"
    assert torch.equal(run(0), a), "the same seed must give the same images"
    assert not torch.equal(run(1), a), "another seed must give other images"


def _steps(student: Student) -> tuple[list, torch.Tensor]:
    out = _sample(student, record_x=True)
    expect_true(len(out.records) == T, "ddpm_sample's UNet calls", f"  {len(out.records)} calls, expected {T}")
    return out.records, expect_tensor(out.value, "ddpm_sample(..., num_samples=3)", (3, 1, 28, 28))


@graded("ddpm_sample's last step is the posterior mean (no noise)", points=2, visibility="after_published")
def test_ddpm_sample_last_step(student: Student) -> None:
    records, final = _steps(student)
    x, t0 = records[-1].x, inputs.steps([0, 0, 0])
    eps = ref.mock_eps(x, t0 / T)
    expect_close(final, ref.posterior_mean(x, t0, SCHED, eps),
                 "ddpm_sample's result vs the last step's input: x_0 = mean(x_1, t = 0), no noise",
                 wrong.last_step(x, t0, SCHED, eps), **T0_TOL)


@graded("ddpm_sample starts from N(0, I) and adds fresh noise at each step", points=1, visibility="hidden")
def test_ddpm_sample_fresh_noise(student: Student) -> None:
    records, _ = _steps(student)
    expect_standard_normal(records[0].x, "the starting point x_{T-1} of ddpm_sample")
    residuals = []
    for i in range(T - 1):  # x_{i+1} = mean_i + sqrt(beta_t) z_i at t = T-1-i >= 1
        t = inputs.steps([T - 1 - i] * 3)
        mean = ref.posterior_mean(records[i].x, t, SCHED, ref.mock_eps(records[i].x, t / T))
        z = (records[i + 1].x.double() - mean) / SCHED["betas"][T - 1 - i].double().sqrt()
        std = z.std().item()
        if not 0.8 < std < 1.2:
            raise Mismatch("the noise ddpm_sample adds at each step, (x_{t-1} - mean) / sqrt(beta_t)",
                           f"  at t = {T - 1 - i} its standard deviation is {std:.3f} (expected 1)",
                           "sigma_t = sqrt(beta_t), with a fresh z ~ N(0, I) at every step but the last")
        residuals.append(z)
    expect_standard_normal(torch.stack(residuals), "the noise ddpm_sample adds over all steps")
    worst = max(abs(correlation(a, b)) for a, b in zip(residuals, residuals[1:], strict=False))
    expect_true(worst < 0.2, "the noise of consecutive steps of ddpm_sample",
                f"  correlation up to {worst:.2f} between steps", "draw a new z at every step")


@graded("ddpm_sample applies classifier-free guidance", points=1, visibility="after_published")
def test_ddpm_sample_cfg(student: Student) -> None:
    c, scale = inputs.one_hot([1, 5]), 5.0
    out = _sample(student, record_x=True, c=c, guidance_scale=scale)
    final = expect_tensor(out.value, "ddpm_sample(..., c, guidance_scale=5)", (2, 1, 28, 28))
    last = [r for r in out.records if r.x is not None and float(r.t.abs().max()) < 1e-9]
    expect_true(bool(last), "ddpm_sample with guidance", "  the UNet was never called at t = 0")
    x, t0 = last[0].x[:2], inputs.steps([0, 0])
    eps_c, eps_u = ref.mock_eps(x, t0 / T, c), ref.mock_eps(x, t0 / T, torch.zeros_like(c))
    mistakes = {label: ref.posterior_mean(x, t0, SCHED, e) for label, e in wrong.guidance(eps_c, eps_u, scale).items()}
    expect_close(final, ref.posterior_mean(x, t0, SCHED, ref.cfg(eps_c, eps_u, scale)),
                 "ddpm_sample's last step with c and guidance_scale=5", mistakes, **T0_TOL)


@self_check(points=1)
def public_ddpm_module_gives_a_loss_and_samples(hw, kit, class_net):
    model = hw.diffusion.DDPM(class_net, num_ts=10)
    loss = model(kit.images(), kit.one_hot([0, 1, 2, 3]))
    assert kit.is_scalar(loss), "DDPM.forward must return a finite scalar loss"
    assert model.sample((28, 28), seed=0, c=kit.one_hot([4, 5])).shape == (2, 1, 28, 28)
