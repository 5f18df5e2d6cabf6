"""The cs180-fa24-ddpm dialect's corpus: CS180 Fall 2024 Project 5B notebooks in the course's own API.

tests/dialects/cs180_fa24/reference.py is a complete notebook in py-percent form (cells start with
`# %%`); `notebook()` writes it as a real .ipynb with nbformat. Variants are edits of its text, each
`old` occurring exactly once: CORRECT ones carry the variations real submissions show (DIALECTS.md,
section 3) and keep full marks; BUGS are realistic mistakes, with exactly the tests each must fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parents[1] / "dialects" / "cs180_fa24"
REFERENCE = HERE / "reference.py"


def cells(text: str) -> list[tuple[str, str]]:
    """(kind, source) of each `# %%` cell; `# %% [markdown]` cells are markdown with the comment marks removed."""
    out = []
    for chunk in re.split(r"^# %%", text, flags=re.M)[1:]:
        header, _, body = chunk.partition("\n")
        if "[markdown]" in header:
            out.append(("markdown", "\n".join(line.removeprefix("# ").removeprefix("#") for line in
                                             body.strip().splitlines())))
        else:
            out.append(("code", body.strip("\n")))
    return out


def notebook(text: str, path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in cells(text)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@dataclass(frozen=True)
class Variant:
    name: str
    edits: tuple[tuple[str, str], ...]  # (old, new) in reference.py
    fails: frozenset[str] = frozenset()
    message: str = ""  # shown in the output of one failing test at least
    # The parts graded: all, or (a bug in the DDPM functions, whose UNet classes are the reference's) the
    # DDPM parts only, which spares the UNet design checks' seconds.
    tests: str = "all"
    source: Path = REFERENCE  # the notebook it edits
    prefix: str = "cs180"

    def build(self, root: Path) -> Path:
        text = self.source.read_text()
        for old, new in self.edits:
            assert text.count(old) == 1, f"{self.name}: {old!r} occurs {text.count(old)} times in the reference"
            text = text.replace(old, new)
        return notebook(text, root / f"{self.prefix}-{self.name}" / "proj5b.ipynb")


STUB_MARKS = ("# YOUR CODE HERE.", "# ===== your code here! ====")  # fa24's, and the flow notebook's


def skeleton(text: str) -> str:
    """The unfilled notebook: every body below a `# YOUR CODE HERE.` line is `raise NotImplementedError()`."""
    out, skip = [], None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if skip is not None and (not line.strip() or indent >= skip) and not line.startswith("# %%"):
            continue
        skip = None
        out.append(line)
        if line.strip() in STUB_MARKS:
            out.append(" " * indent + "raise NotImplementedError()")
            skip = indent
    return "\n".join(out) + "\n"


def build_skeleton(root: Path, source: Path = REFERENCE, prefix: str = "cs180") -> Path:
    return notebook(skeleton(source.read_text()), root / f"{prefix}-skeleton" / "proj5b.ipynb")


UNET = ["test_conv_ops_shapes", "test_flatten_fc_shapes", "test_blocks_shapes", "test_ops_layers",
        "test_unconditional_unet_shape", "test_time_unet_shape", "test_class_unet_shape", "test_params_unconditional",
        "test_params_conditional", "test_unet_layer_counts", "test_conditioning_changes_output",
        "test_class_unet_mask_hides_the_class", "test_modulation_form_class"]
FORWARD = ["test_ddpm_forward_t_range", "test_ddpm_forward_p_uncond", "test_ddpm_forward_p_uncond_argument",
           "test_ddpm_wrapper_forward", "test_ddpm_forward_closed_form"]
SAMPLE = ["test_ddpm_sample_calls", "test_ddpm_sample_timesteps", "test_ddpm_sample_shape",
          "test_ddpm_sample_last_step", "test_ddpm_sample_fresh_noise", "test_ddpm_sample_cfg"]
ALL = UNET + ["test_ddpm_schedule"] + FORWARD + SAMPLE
DESIGN = ["test_ops_layers", "test_params_unconditional", "test_params_conditional", "test_unet_layer_counts"]
DDPM_PARTS = "schedules,loss,ddpm_sample"
SAMPLER_LOOP = "x = torch.randn(batch_size, 1, *img_wh, device=dev)\n    for t in range(num_ts - 1, -1, -1):"

TIME_FORWARD = '''"""One training step: the loss of the UNet's noise estimate."""
    unet.train()
    # YOUR CODE HERE.
    t = torch.randint(0, num_ts, (x_0.shape[0],), device=x_0.device)
    ab = ddpm_schedule["alpha_bars"].to(x_0.device)[t].reshape(-1, 1, 1, 1)
    eps = torch.randn_like(x_0)'''
TIME_SAMPLER_STEP = '''        ab, ab_prev = abs_[t], abs_[t - 1] if t > 0 else torch.tensor(1.0, device=dev)
        eps = unet(x, torch.full((x.shape[0], 1), t / num_ts, device=dev))'''
CLASS_SAMPLER_NOISE = '''        z = torch.randn_like(x) if t > 0 else torch.zeros_like(x)
        ab, ab_prev = abs_[t], abs_[t - 1] if t > 0 else torch.tensor(1.0, device=dev)
        tt = '''

CORRECT = [
    Variant("renamed_keys_and_two_argument_unet", (
        # d_-prefixed schedule keys, used consistently
        ('return {"betas": betas, "alphas": alphas, "alpha_bars": alpha_bars}',
         'return {"d_betas": betas, "d_alphas": alphas, "d_alpha_bars": alpha_bars}'),
        ('ab = ddpm_schedule["alpha_bars"].to(x_0.device)[t].reshape(-1, 1, 1, 1)\n    eps = torch.randn_like(x_0)\n'
         '    x_t = ab.sqrt() * x_0 + (1 - ab).sqrt() * eps\n    return F.mse_loss(unet(x_t, (t / num_ts)',
         'ab = ddpm_schedule["d_alpha_bars"].to(x_0.device)[t].reshape(-1, 1, 1, 1)\n    eps = torch.randn_like(x_0)\n'
         '    x_t = ab.sqrt() * x_0 + (1 - ab).sqrt() * eps\n    return F.mse_loss(unet(x_t, (t / num_ts)'),
        ('ab = ddpm_schedule["alpha_bars"].to(x_0.device)[t].reshape(-1, 1, 1, 1)\n    eps = torch.randn_like(x_0)\n'
         '    x_t = ab.sqrt() * x_0 + (1 - ab).sqrt() * eps\n    mask',
         'ab = ddpm_schedule["d_alpha_bars"].to(x_0.device)[t].reshape(-1, 1, 1, 1)\n    eps = torch.randn_like(x_0)\n'
         '    x_t = ab.sqrt() * x_0 + (1 - ab).sqrt() * eps\n    mask'),
        ('for k in ("betas", "alphas", "alpha_bars"))\n    torch.manual_seed(seed)\n    x = torch.randn(batch_size',
         'for k in ("d_betas", "d_alphas", "d_alpha_bars"))\n    torch.manual_seed(seed)\n'
         '    x = torch.randn(batch_size'),
        ('for k in ("betas", "alphas", "alpha_bars"))\n    n = len(c)',
         'for k in ("d_betas", "d_alphas", "d_alpha_bars"))\n    n = len(c)'),
        # the time-only UNet without num_classes, taking t as (N, 1) without reshaping it
        ("class TimeConditionalUNet(nn.Module):\n    def __init__(self, in_channels: int, num_classes: int, "
         "num_hiddens: int):", "class TimeConditionalUNet(nn.Module):\n    def __init__(self, in_channels: int, "
         "num_hiddens: int):"),
        ("        t = t.reshape(-1, 1).float()\n        t1 = self.fc1_t(t)[:, :, None, None]\n        t2",
         "        t1 = self.fc1_t(t)[:, :, None, None]\n        t2"),
        ("ddpm = DDPM(TimeConditionalUNet(1, 10, 64))", "ddpm = DDPM(TimeConditionalUNet(1, 64))"),
        # the functional GELU in the FCBlock
        ("self.net = nn.Sequential(nn.Linear(in_channels, out_channels), nn.GELU(), nn.Linear(out_channels, "
         "out_channels))\n\n    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        return self.net(x)",
         "self.fc1 = nn.Linear(in_channels, out_channels)\n        self.fc2 = nn.Linear(out_channels, out_channels)"
         "\n\n    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        return self.fc2(F.gelu(self.fc1(x)))"),
    )),
    Variant("class_suffixes_and_own_defaults", (
        # the class-conditioned functions under _class names instead of redefinitions
        ("def ddpm_forward(unet, ddpm_schedule: dict, x_0: torch.Tensor, c: torch.Tensor",
         "def ddpm_forward_class(unet, ddpm_schedule: dict, x_0: torch.Tensor, c: torch.Tensor"),
        ("def ddpm_sample(unet, ddpm_schedule: dict, c: torch.Tensor, img_wh: tuple, num_ts: int, "
         "guidance_scale: float = 5.0,\n                seed: int = 0):",
         "def ddpm_sample_class(unet, ddpm_schedule: dict, c: torch.Tensor, img_wh: tuple, num_ts: int, "
         "guidance_scale: float = 10.0,\n                      seed: int = 0, display: bool = False):"),
        ("class DDPM(nn.Module):\n    def __init__(self, unet, betas=(1e-4, 0.02), num_ts: int = 300, "
         "p_uncond: float = 0.1):\n        super().__init__()\n        self.unet = unet\n        self.num_ts",
         "class DDPM_Class(nn.Module):\n    def __init__(self, unet, betas=(1e-4, 0.02), num_ts: int = 400, "
         "p_uncond: float = 0.1):\n        super().__init__()\n        self.unet = unet\n        self.num_ts"),
        ("return ddpm_forward(self.unet, self.ddpm_schedule, x, c,",
         "return ddpm_forward_class(self.unet, self.ddpm_schedule, x, c,"),
        ("return ddpm_sample(self.unet, self.ddpm_schedule, c,",
         "return ddpm_sample_class(self.unet, self.ddpm_schedule, c,"),
        # the time-only sampler with a display flag; DDPM without p_uncond
        ("def ddpm_sample(unet, ddpm_schedule: dict, img_wh: tuple, num_ts: int, seed: int = 0) -> torch.Tensor:",
         "def ddpm_sample(unet, ddpm_schedule: dict, img_wh: tuple, num_ts: int, seed: int = 0,\n"
         "                display: bool = False) -> torch.Tensor:"),
    )),
    # Seen once: a one-hot pipeline, ClassConditionalUNet.forward(x, t, c) without mask, a dropped class a zero row.
    Variant("one_hot_pipeline", (
        ("def forward(self, x: torch.Tensor, c: torch.Tensor, t: torch.Tensor, mask: torch.Tensor | None = None):",
         "def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor):"),
        ("        c = F.one_hot(c.long(), self.num_classes).float()\n        if mask is not None:\n"
         "            c = c * mask.reshape(-1, 1).float()\n", "        c = c.float()\n"),
        ("return F.mse_loss(unet(x_t, c, (t / num_ts).reshape(-1, 1), mask), eps)",
         "return F.mse_loss(unet(x_t, (t / num_ts).reshape(-1, 1), c * mask[:, None]), eps)"),
        ("eps_c, eps_u = unet(x, c, tt, ones), unet(x, c, tt, zeros)",
         "eps_c, eps_u = unet(x, tt, c), unet(x, tt, torch.zeros_like(c))"),
    )),
]

BUGS = [
    # Seen: alpha_bars[t - 1] read by index, which wraps to the last entry at t = 0.
    Variant("alpha_bar_prev_wraps", ((TIME_SAMPLER_STEP, TIME_SAMPLER_STEP.replace(
        "abs_[t - 1] if t > 0 else torch.tensor(1.0, device=dev)", "abs_[t - 1]")),),
        frozenset({"test_ddpm_sample_last_step"}), "wraps to the last entry", tests=DDPM_PARTS),
    # Seen: noise added at the last step; the loop stopping before t = 0.
    Variant("noise_at_last_step", ((CLASS_SAMPLER_NOISE, CLASS_SAMPLER_NOISE.replace(
        "torch.randn_like(x) if t > 0 else torch.zeros_like(x)", "torch.randn_like(x)")),),
        frozenset({"test_ddpm_sample_cfg"}), "ddpm_sample's last step", tests=DDPM_PARTS),
    Variant("skips_step_zero", ((SAMPLER_LOOP, SAMPLER_LOOP.replace("(num_ts - 1, -1, -1)", "(num_ts - 1, 0, -1)")),),
            frozenset({"test_ddpm_sample_calls", "test_ddpm_sample_timesteps", "test_ddpm_sample_last_step",
                       "test_ddpm_sample_fresh_noise"}), "one step short", tests=DDPM_PARTS),
    # Seen (ADL, the same mistake here): uniform noise.
    Variant("uniform_noise", ((TIME_FORWARD, TIME_FORWARD.replace("torch.randn_like(x_0)", "torch.rand_like(x_0)")),),
            frozenset({"test_ddpm_forward_t_range", "test_ddpm_forward_closed_form"}), "std 0.2894", tests=DDPM_PARTS),
    Variant("alphas_for_alpha_bars", ((TIME_FORWARD, TIME_FORWARD.replace('["alpha_bars"]', '["alphas"]')),),
            frozenset({"test_ddpm_forward_t_range", "test_ddpm_forward_closed_form", "test_ddpm_wrapper_forward"}),
            "standard deviation", tests=DDPM_PARTS),
    Variant("unet_gets_integer_t", (("return F.mse_loss(unet(x_t, (t / num_ts).reshape(-1, 1)), eps)",
                                     "return F.mse_loss(unet(x_t, t.reshape(-1, 1).float()), eps)"),),
            frozenset({"test_ddpm_forward_t_range", "test_ddpm_forward_closed_form", "test_ddpm_wrapper_forward"}),
            "the UNet gets t / T", tests=DDPM_PARTS),
    Variant("class_kept_with_probability_p", (("mask = (torch.rand(x_0.shape[0], device=x_0.device) >= p_uncond)",
                                               "mask = (torch.rand(x_0.shape[0], device=x_0.device) < p_uncond)"),),
            frozenset({"test_ddpm_forward_p_uncond"}), "inverted", tests=DDPM_PARTS),
    Variant("guidance_sign_flipped", (("eps = eps_u + guidance_scale * (eps_c - eps_u)",
                                       "eps = eps_c + guidance_scale * (eps_u - eps_c)"),),
            frozenset({"test_ddpm_sample_cfg"}), "guidance sign flipped", tests=DDPM_PARTS),
    # Seen (fa25): Part 1's ops off the fixed spec: ReLU, pooling to downsample, a reshape Unflatten.
    Variant("relu_in_conv", (("self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 1, 1), "
                              "nn.BatchNorm2d(out_channels), nn.GELU())",
                              "self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 1, 1), "
                              "nn.BatchNorm2d(out_channels), nn.ReLU())"),),
            frozenset(DESIGN), "Conv2d -> BatchNorm2d -> GELU"),
    Variant("pooling_to_downsample", (("self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 2, 1), "
                                       "nn.BatchNorm2d(out_channels), nn.GELU())",
                                       "self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 1, 1), "
                                       "nn.AvgPool2d(2), nn.BatchNorm2d(out_channels), nn.GELU())"),),
            frozenset(DESIGN), "DownConv(2, 3) with the grader's weights"),
    Variant("reshape_unflatten", (("self.net = nn.Sequential(nn.ConvTranspose2d(in_channels, in_channels, 7, 7, 0), "
                                   "nn.BatchNorm2d(in_channels),\n                                 nn.GELU())",
                                   "self.net = nn.Sequential(nn.Upsample(scale_factor=7), nn.BatchNorm2d(in_channels),"
                                   " nn.GELU())"),),
            frozenset(DESIGN), "Unflatten(2D)"),
    # Seen: a sampler drawing one image whatever c holds.
    Variant("one_sample_for_any_c", (("n = len(c)\n", "n = 1\n"),),
            frozenset({"test_ddpm_sample_shape", "test_ddpm_sample_cfg"}), "got (5, 10) for N = 1", tests=DDPM_PARTS),
    # Seen: the wrong cache frame returned as the sample.
    Variant("returns_first_cache", (("return x, torch.stack(caches, 1)", "return caches[0], torch.stack(caches, 1)"),),
            frozenset({"test_ddpm_sample_shape", "test_ddpm_sample_cfg"}), "the images vs its last step",
            tests=DDPM_PARTS),
    Variant("class_embedding_added", (("h = c1 * self.unflatten(self.flatten(e2)) + t1\n        h = c2 * self.up1("
                                       "torch.cat([h, e2], 1)) + t2",
                                       "h = self.unflatten(self.flatten(e2)) + c1 + t1\n        h = self.up1("
                                       "torch.cat([h, e2], 1)) + c2 + t2"),),
            frozenset({"test_modulation_form_class", "test_params_conditional", "test_unet_layer_counts"}),
            "the class embedding is added, not multiplied"),
    Variant("mask_ignored", (("        if mask is not None:\n            c = c * mask.reshape(-1, 1).float()\n", ""),),
            frozenset({"test_class_unet_mask_hides_the_class"}), "mask = 0"),
]
