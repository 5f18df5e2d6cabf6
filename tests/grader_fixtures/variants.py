"""Hand-broken copies of the reference solution, each with one kind of failure.

A variant is a list of edits (file, old text, new text); each `old` must occur exactly once in
solution/, so a change there that invalidates a variant fails loudly instead of silently.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solution"

# Catalog tests by part, as declared in grader/catalog/.
NOISING = ["test_add_noise", "test_add_noise_default"]
Q_SAMPLE = ["test_q_sample_closed_form", "test_q_sample_per_sample_t", "test_q_sample_default_noise",
            "test_q_sample_dtype_device", "test_q_sample_matches_chain"]
LOSS = ["test_p_losses_l2", "test_p_losses_l1", "test_p_losses_unet_inputs", "test_p_losses_class",
        "test_ddpm_forward_t_range", "test_ddpm_forward_p_uncond", "test_ddpm_forward_p_uncond_argument",
        "test_ddpm_wrapper_forward"]
P_SAMPLE = ["test_p_sample_mean", "test_p_sample_sigma", "test_p_sample_no_noise_at_t0", "test_p_sample_mixed_t",
            "test_p_sample_cfg", "test_p_sample_unet_time"]
DDPM_SAMPLE = ["test_ddpm_sample_calls", "test_ddpm_sample_timesteps", "test_ddpm_sample_frames",
               "test_ddpm_sample_shape", "test_ddpm_sample_seed", "test_ddpm_sample_last_step",
               "test_ddpm_sample_fresh_noise", "test_ddpm_sample_cfg"]
FLOW = ["test_fm_interpolate", "test_fm_forward_loss", "test_fm_forward_unet_inputs", "test_fm_forward_p_uncond",
        "test_fm_sample_euler", "test_fm_sample_timesteps", "test_fm_sample_frames", "test_fm_sample_seed",
        "test_fm_sample_cfg", "test_flow_matching_wrapper"]
TRAIN_PY = ["test_denoiser_loss", "test_pure_noise_loss", "test_train_step"]  # train.py imports the other modules
TRAINING = TRAIN_PY + ["test_train_denoiser", "test_train_ddpm_time", "test_train_ddpm_class", "test_train_flow"]


@dataclass(frozen=True)
class Variant:
    name: str
    edits: tuple[tuple[str, str, str], ...]  # (file, old, new)
    fails: frozenset[str]  # exactly the catalog tests that must lose their points
    message: str  # must appear in the output of each failing test
    timeout: float | None = None  # per-request timeout to grade it with

    def build(self, dest: Path) -> Path:
        folder = dest / self.name
        if folder.exists():  # built earlier in this session
            return folder
        shutil.copytree(SOLUTION, folder, ignore=shutil.ignore_patterns("__pycache__"))
        for file, old, new in self.edits:
            path = folder / file
            text = path.read_text()
            assert text.count(old) == 1, f"variant {self.name}: {old!r} is not once in solution/{file}"
            path.write_text(text.replace(old, new))
        return folder


def _cut(file: str, start: str, end: str) -> tuple[str, str, str]:
    """An edit that deletes solution/<file> from `start` up to (not including) `end`."""
    text = (SOLUTION / file).read_text()
    i, j = text.index(start), text.index(end)
    return (file, text[i:j], "")


VARIANTS = {
    v.name: v
    for v in [
        Variant("syntax_error", (("flow.py", "def fm_interpolate(x0: torch.Tensor, x1: torch.Tensor,",
                                  "def fm_interpolate(x0: torch.Tensor x1: torch.Tensor,"),),
                frozenset(FLOW + TRAIN_PY + ["test_train_flow"]), "SyntaxError"),
        Variant("missing_function", (_cut("schedules.py", "def sigmoid_beta_schedule(", "def ddpm_schedule("),),
                frozenset({"test_sigmoid_schedule", "test_ddpm_schedule_kinds"}),
                "sigmoid_beta_schedule"),
        Variant("wrong_shape", (("diffusion.py", "    return x + sigma * noise\n",
                                 "    return (x + sigma * noise).flatten(1)\n"),),
                frozenset(NOISING + ["test_denoiser_loss", "test_train_denoiser"]), "expected shape"),
        Variant("infinite_loop", (("diffusion.py", "    return x + sigma * noise\n",
                                   "    while True:\n        pass\n"),),
                frozenset(NOISING + ["test_denoiser_loss", "test_train_denoiser"]), "did not finish within",
                timeout=4.0),
        Variant("sys_exit_at_import", (("diffusion.py", "from .schedules import ddpm_schedule\n",
                                        "from .schedules import ddpm_schedule\nimport sys\nsys.exit('bye')\n"),),
                frozenset(NOISING + Q_SAMPLE + LOSS + P_SAMPLE + DDPM_SAMPLE + FLOW + TRAINING),
                "sys.exit('bye') was called"),
        Variant("nan", (("diffusion.py", "    mean = (x_t - beta / (1 - ab).sqrt() * eps) / alpha.sqrt()",
                         "    mean = (x_t - beta / (ab - 1).sqrt() * eps) / alpha.sqrt()"),),
                frozenset(["test_p_sample_mean", "test_p_sample_sigma", "test_p_sample_no_noise_at_t0",
                           "test_p_sample_mixed_t", "test_p_sample_cfg", "test_p_sample_unet_time",
                           "test_ddpm_sample_calls", "test_ddpm_sample_timesteps", "test_ddpm_sample_frames",
                           "test_ddpm_sample_shape",
                           "test_ddpm_sample_seed", "test_ddpm_sample_last_step", "test_ddpm_sample_fresh_noise",
                           "test_ddpm_sample_cfg", "test_train_ddpm_time", "test_train_ddpm_class"]), "NaN"),
    ]
}

# Known mistakes, one per function, and the hint each failing test must name.
MISTAKES = Variant(
    "mistakes",
    (
        ("diffusion.py", '    ab = _at(sched["alpha_bars"], t, x0)\n', '    ab = _at(sched["alphas"], t, x0)\n'),
        ("diffusion.py", "    return out_uncond + guidance_scale * (out_cond - out_uncond)",
         "    return out_cond + guidance_scale * (out_uncond - out_cond)"),
        ("diffusion.py", '    t_norm = t.to(x_t.dtype) / len(sched["betas"])\n    eps = guided_prediction(',
         "    t_norm = t.to(x_t.dtype)\n    eps = guided_prediction("),
        ("flow.py", "    return F.mse_loss(u, x1 - noise)", "    return F.mse_loss(u, noise - x1)"),
        ("schedules.py", "    t = torch.arange(num_ts, dtype=torch.float64)\n    ramp",
         "    t = torch.arange(1, num_ts + 1, dtype=torch.float64)\n    ramp"),
    ),
    frozenset(),  # checked by hint, see HINTS
    "",
)
HINTS = {
    "test_q_sample_closed_form": "alpha_t used where the formula has alpha_bar_t",
    "test_p_losses_l2": "x_t built with alpha_t instead of alpha_bar_t",
    "test_p_sample_mean": "the UNet got the integer t instead of t / T",
    "test_p_sample_unet_time": "the integer t: the UNet gets the normalised time t / T",
    "test_ddpm_sample_timesteps": "the integer t: the UNet gets t / T",
    "test_fm_forward_loss": "target x0 - x1",
    "test_fm_sample_cfg": "guidance sign flipped",
    "test_sigmoid_schedule": "t runs 1 .. T instead of 0 .. T-1",
}
