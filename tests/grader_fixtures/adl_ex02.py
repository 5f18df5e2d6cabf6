"""The adl-ex02 dialect's corpus: FAU ADL Exercise 2 written in the course's own API.

tests/dialects/adl_ex02/reference is a complete, correct Exercise 2; skeleton/ holds the unfilled
ex02_diffusion.py (the course's other files are the reference's: `build_skeleton`). The
variants below are edits of the reference's ex02_diffusion.py, each `old` occurring exactly once:
CORRECT ones carry the variations real submissions show (DIALECTS.md, section 3) and must keep full
marks; BUGS are realistic mistakes (section 4 and the usual ones), each with exactly the tests it
must fail and a phrase the report must show for it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "dialects" / "adl_ex02"
REFERENCE, SKELETON = HERE / "reference", HERE / "skeleton"
FILE = "ex02_diffusion.py"


def build_skeleton(root: Path) -> Path:
    """The unfilled Exercise 2: the reference's files with the skeleton's ex02_diffusion.py."""
    folder = root / "adl-skeleton"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(REFERENCE, folder)
    shutil.copy(SKELETON / FILE, folder / FILE)
    return folder

SCHEDULES = ["test_linear_schedule", "test_cosine_schedule_either_clip", "test_sigmoid_schedule_any_range"]
Q_SAMPLE = ["test_q_sample_closed_form", "test_q_sample_per_sample_t", "test_q_sample_default_noise",
            "test_q_sample_dtype_device", "test_q_sample_matches_chain"]
LOSS = ["test_p_losses_l2", "test_p_losses_l1", "test_p_losses_unet_inputs"]
P_SAMPLE = ["test_p_sample_mean", "test_p_sample_no_noise_at_t0", "test_p_sample_either_variance"]
SAMPLE = ["test_ddpm_sample_calls", "test_ddpm_sample_timesteps", "test_ddpm_sample_last_step"]
ALL = SCHEDULES + Q_SAMPLE + LOSS + P_SAMPLE + SAMPLE


@dataclass(frozen=True)
class Variant:
    name: str
    edits: tuple[tuple[str, str], ...]  # (old, new) in ex02_diffusion.py
    fails: frozenset[str] = frozenset()
    message: str = ""  # shown in the report for one of the failing tests at least: what names the mistake

    def build(self, root: Path) -> Path:
        folder = root / f"adl-{self.name}"
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(REFERENCE, folder)
        text = (folder / FILE).read_text()
        for old, new in self.edits:
            assert text.count(old) == 1, f"{self.name}: {old!r} occurs {text.count(old)} times in the reference"
            text = text.replace(old, new)
        (folder / FILE).write_text(text)
        return folder


CORRECT = [
    Variant("sqrt_beta_numpy_no_image_size", (
        # sigma_t = sqrt(beta_t) instead of the posterior variance; both are the course's
        ("return model_mean + torch.sqrt(posterior_variance_t) * noise",
         "return model_mean + torch.sqrt(betas_t) * noise"),
        # sample() without image_size (the Diffusion knows it), returning numpy arrays
        ("def sample(self, model, image_size, batch_size=16, channels=3):",
         "def sample(self, model, batch_size=16, channels=3):\n        image_size = self.img_size"),
        ("imgs.append(img.cpu())", "imgs.append(img.cpu().numpy())"),
        # q_sample with a device argument, as one submission had
        ("def q_sample(self, x_zero, t, noise=None):\n",
         "def q_sample(self, x_zero, t, noise=None, device=\"cuda\"):\n        x_zero = x_zero.to(device)\n"),
        # the cosine schedule clipped as Nichol & Dhariwal do
        ("return torch.clip(betas, 0.0001, 0.9999).float()", "return torch.clamp(betas, max=0.999).float()"),
    )),
    Variant("conditional_signatures", (
        ("def __init__(self, timesteps, get_noise_schedule, img_size, device=\"cuda\"):",
         "def __init__(self, timesteps, get_noise_schedule, img_size, device=\"cuda\", "
         "classifier_free_guidance=False, w=0.3):"),
        # required class arguments after t_index, neutral when no class is given
        ("def p_sample(self, model, x, t, t_index):",
         "def p_sample(self, model, x, t, t_index, class_token, train_mode, weight):\n"
         "        assert class_token is None and not train_mode"),
        ("img = self.p_sample(model, img, t, i)",
         "img = self.p_sample(model, img, t, i, classes, False, guidance_scale)"),
        ("def sample(self, model, image_size, batch_size=16, channels=3):",
         "def sample(self, model, image_size, batch_size=16, channels=3, classes=None, guidance_scale=0.0):"),
        # keyword-only loss arguments with a label, and l2 as the default
        ("def p_losses(self, denoise_model, x_zero, t, noise=None, loss_type=\"l1\"):",
         "def p_losses(self, denoise_model, x_zero, t, *, loss_type=\"l2\", y=None, noise=None):"),
        # a sigmoid over another ramp; every step's images stacked in one tensor
        ("ramp = torch.linspace(-6, 6, timesteps)", "ramp = torch.linspace(-10, 4, timesteps)"),
        ("return imgs\n", "self.last_samples = torch.stack(imgs)\n        return self.last_samples\n"),
    )),
    Variant("c_before_t_index", (
        ("def p_sample(self, model, x, t, t_index):", "def p_sample(self, model, x, t, c, t_index):"),
        ("img = self.p_sample(model, img, t, i)", "img = self.p_sample(model, img, t, None, i)"),
    )),
]

BUGS = [
    # Seen in a real submission: uniform noise when none is given.
    Variant("uniform_noise", (("if noise is None:\n            noise = torch.randn_like(x_zero)\n        sqrt",
                               "if noise is None:\n            noise = torch.rand_like(x_zero)\n        sqrt"),),
            frozenset({"test_q_sample_default_noise", "test_q_sample_matches_chain"}), "standard"),
    # Seen: `class Diffusion:` commented out, an nn.Module with q_sample(x_start, t, noise) in its place.
    Variant("module_in_place_of_diffusion", (
        ("class Diffusion:\n    def __init__(self, timesteps, get_noise_schedule, img_size, device=\"cuda\"):",
         "class Diffusion(torch.nn.Module):\n    def __init__(self, timesteps, get_noise_schedule, img_size, "
         "device=\"cuda\"):\n        super().__init__()"),
        ("def q_sample(self, x_zero, t, noise=None):\n        # TODO (2.2): the forward process in closed form\n"
         "        if noise is None:\n            noise = torch.randn_like(x_zero)",
         "def q_sample(self, x_start, t, noise=None):\n        x_zero = x_start\n"
         "        if noise is None:\n            noise = torch.randn_like(x_zero)"),
        ("def p_sample(self, model, x, t, t_index):", "def _p_sample(self, model, x, t, t_index):"),
    ), frozenset(Q_SAMPLE + LOSS + P_SAMPLE + SAMPLE), "x_zero"),
    # Seen: the schedules left as stubs.
    Variant("cosine_stub", (("steps = torch.arange(timesteps + 1, dtype=torch.float64)",
                             "raise NotImplementedError(\"TODO 2.3\")"),),
            frozenset({"test_cosine_schedule_either_clip"}), "NotImplementedError"),
    Variant("sigmoid_is_linear", (("return torch.sigmoid(ramp) * (beta_end - beta_start) + beta_start",
                                   "return torch.linspace(beta_start, beta_end, timesteps)"),),
            frozenset({"test_sigmoid_schedule_any_range"}), "not strictly between"),
    Variant("sigmoid_falls", (("ramp = torch.linspace(-6, 6, timesteps)", "ramp = torch.linspace(6, -6, timesteps)"),),
            frozenset({"test_sigmoid_schedule_any_range"}), "rising straight line"),
    Variant("cosine_without_offset", (("f = torch.cos((steps / timesteps + s) / (1 + s) * math.pi / 2) ** 2",
                                       "f = torch.cos(steps / timesteps * math.pi / 2) ** 2"),),
            frozenset({"test_cosine_schedule_either_clip"}), "cosine_beta_schedule(300)"),
    # The closed form with alpha_t for alpha_bar_t, and without the square root.
    Variant("q_sample_alphas", (("self.sqrt_alphas_cumprod = torch.sqrt(self.alphas_cumprod)",
                                 "self.sqrt_alphas_cumprod = torch.sqrt(self.alphas)"),),
            frozenset(Q_SAMPLE + LOSS), "q_sample"),
    Variant("q_sample_no_sqrt", (("sqrt_alphas_cumprod_t * x_zero + sqrt_one_minus_alphas_cumprod_t * noise",
                                  "sqrt_alphas_cumprod_t ** 2 * x_zero "
                                  "+ sqrt_one_minus_alphas_cumprod_t ** 2 * noise"),),
            frozenset(Q_SAMPLE + LOSS), "q_sample"),
    # Seen: the x0-form mean reading alpha_bar_{t-1} as alphas_cumprod[t - 1], which wraps at t = 0.
    Variant("alpha_bar_prev_wraps", (
        ("model_mean = sqrt_recip_alphas_t * (x - betas_t * model(x, t) / sqrt_one_minus_alphas_cumprod_t)",
         "ab = extract(self.alphas_cumprod, t, x.shape)\n"
         "        ab_prev = self.alphas_cumprod[t - 1].reshape(-1, 1, 1, 1)\n"
         "        x0_hat = (x - sqrt_one_minus_alphas_cumprod_t * model(x, t)) / ab.sqrt()\n"
         "        model_mean = (ab_prev.sqrt() * betas_t / (1 - ab) * x0_hat\n"
         "                      + (1 - betas_t).sqrt() * (1 - ab_prev) / (1 - ab) * x)"),
    ), frozenset({"test_p_sample_no_noise_at_t0", "test_p_sample_either_variance", "test_ddpm_sample_last_step"}),
        "wraps to the last entry"),
    # (With the posterior variance, which is 0 at t = 0, dropping the check changes nothing: with beta_t it does.)
    Variant("noise_at_last_step", (("if t_index == 0:\n            return model_mean\n        ", ""),
                                   ("return model_mean + torch.sqrt(posterior_variance_t) * noise",
                                    "return model_mean + torch.sqrt(betas_t) * noise")),
            frozenset({"test_p_sample_no_noise_at_t0", "test_p_sample_either_variance", "test_ddpm_sample_last_step"}),
            "t = 0"),
    Variant("mean_missing_sqrt", (("self.sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - self.alphas_cumprod)",
                                   "self.sqrt_one_minus_alphas_cumprod = 1.0 - self.alphas_cumprod"),),
            frozenset(Q_SAMPLE + LOSS + P_SAMPLE + ["test_ddpm_sample_last_step"]), "square root"),
    Variant("loss_type_ignored", (("if loss_type == \"l1\":", "if True:"),),
            frozenset({"test_p_losses_l2"}), "loss_type='l2'"),
    Variant("model_sees_x_zero", (("predicted_noise = denoise_model(x_noisy, t)",
                                   "predicted_noise = denoise_model(x_zero, t)"),),
            frozenset(LOSS), "x0 instead of x_t"),
    Variant("model_gets_normalised_t", (("predicted_noise = denoise_model(x_noisy, t)",
                                         "predicted_noise = denoise_model(x_noisy, t / self.timesteps)"),),
            frozenset(LOSS), "the time the UNet received"),
    # Seen: the loop stopping before t = 0; the first image returned instead of the last.
    Variant("skips_step_zero", (("reversed(range(0, self.timesteps))", "reversed(range(1, self.timesteps))"),),
            frozenset(SAMPLE), "one step short"),
    Variant("returns_first_image", (("return imgs\n", "return imgs[0]\n"),),
            frozenset({"test_ddpm_sample_last_step"}), "x_0 = mean"),
]
