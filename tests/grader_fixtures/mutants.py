"""Realistic bugs: small wrong variants of one reference function or block each, the mistakes
students make. Every stub of the skeleton has at least one (tests/test_grader_mutants.py checks
that too). For each, `catches` names a test that must lose its points and `hint`, where the
grader knows the mistake, a phrase that test's output must contain.

To add a mutant: one `Mutant(...)` line below; the edit's old text must occur exactly once in
solution/<file>.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.grader_fixtures.variants import Variant


@dataclass(frozen=True)
class Mutant:
    name: str
    stub: str  # the function or class of solution/ it changes, as "module.name"
    edits: tuple[tuple[str, str, str], ...]  # (file, old, new)
    catches: str  # a catalog test that must fail
    hint: str | None  # a phrase the failing test's output must contain, when the grader knows the mistake

    def variant(self) -> Variant:
        return Variant(f"mutant_{self.name}", self.edits, frozenset(), "")


def _m(name: str, stub: str, file: str, old: str, new: str, catches: str, hint: str | None) -> Mutant:
    return Mutant(name, stub, ((file, old, new),), catches, hint)


D, F, S, U, TR = "diffusion.py", "flow.py", "schedules.py", "unet.py", "train.py"
CFG = "    return out_uncond + guidance_scale * (out_cond - out_uncond)"
QS = "    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise"
MEAN = "    mean = (x_t - beta / (1 - ab).sqrt() * eps) / alpha.sqrt()"
NOISE_T0 = "    return mean + nonzero * beta.sqrt() * z"
FM_STEP = "        x = x + guided_prediction(unet, x, t, c, guidance_scale) / num_ts"
PASS = "lambda h: c1 * h + t1, lambda h: c2 * h + t2"

MUTANTS: list[Mutant] = [
    # -- schedules.py ------------------------------------------------------------------------------
    _m("linspace_T_plus_1", "schedules.linear_beta_schedule", S,
       "torch.linspace(beta_start, beta_end, num_ts, dtype", "torch.linspace(beta_start, beta_end, num_ts + 1, dtype",
       "test_linear_schedule", "num_ts + 1 values"),
    _m("cosine_without_s", "schedules.cosine_beta_schedule", S,
       "torch.cos((steps + s) / (1 + s) * math.pi / 2)", "torch.cos(steps * math.pi / 2)",
       "test_cosine_schedule", "the offset s left out"),
    _m("cosine_not_clipped", "schedules.cosine_beta_schedule", S,
       "    return betas.clamp(max=max_beta).to(torch.float32)", "    return betas.to(torch.float32)",
       "test_cosine_schedule", "not clipped at max_beta"),
    _m("sigmoid_t_from_1", "schedules.sigmoid_beta_schedule", S,
       "    t = torch.arange(num_ts, dtype=torch.float64)\n    ramp",
       "    t = torch.arange(1, num_ts + 1, dtype=torch.float64)\n    ramp",
       "test_sigmoid_schedule", "t runs 1 .. T instead of 0 .. T-1"),
    _m("cumsum_not_cumprod", "schedules.ddpm_schedule", S,
       "torch.cumprod(alphas, dim=0)", "torch.cumsum(alphas, dim=0)",
       "test_ddpm_schedule", "cumulative sum instead of cumulative product"),
    _m("cumprod_of_betas", "schedules.ddpm_schedule", S,
       "torch.cumprod(alphas, dim=0)", "torch.cumprod(betas, dim=0)",
       "test_ddpm_schedule", "cumulative product of the betas"),
    # -- diffusion.py ------------------------------------------------------------------------------
    _m("add_noise_variance", "diffusion.add_noise", D,
       "    return x + sigma * noise\n", "    return x + sigma**2 * noise\n",
       "test_add_noise", "sigma^2 * noise"),
    _m("cfg_sign_flipped", "diffusion.guided_prediction", D,
       CFG, "    return out_cond + guidance_scale * (out_uncond - out_cond)",
       "test_p_sample_cfg", "guidance sign flipped"),
    _m("cfg_one_plus_gamma", "diffusion.guided_prediction", D,
       CFG, "    return out_uncond + (1 + guidance_scale) * (out_cond - out_uncond)",
       "test_p_sample_cfg", "(1 + g) instead of g"),
    _m("cfg_conditional_only", "diffusion.guided_prediction", D,
       CFG, "    return guidance_scale * out_cond",
       "test_p_sample_cfg", "g * eps_cond without the unconditional part"),
    _m("dropout_always", "diffusion.class_dropout", D,
       "        mask = torch.rand(c.shape[0], device=c.device) >= p_uncond",
       "        mask = torch.rand(c.shape[0], device=c.device) < p_uncond",
       "test_fm_forward_p_uncond", "the mask is inverted"),
    _m("q_sample_alpha", "diffusion.q_sample", D,
       '    ab = _at(sched["alpha_bars"], t, x0)\n', '    ab = _at(sched["alphas"], t, x0)\n',
       "test_q_sample_closed_form", "alpha_t used where the formula has alpha_bar_t"),
    _m("q_sample_no_sqrt_noise", "diffusion.q_sample", D,
       QS, "    return ab.sqrt() * x0 + (1 - ab) * noise",
       "test_q_sample_closed_form", "missing square root on the noise coefficient"),
    _m("q_sample_no_sqrt", "diffusion.q_sample", D,
       QS, "    return ab * x0 + (1 - ab) * noise",
       "test_q_sample_closed_form", "missing square roots"),
    _m("q_sample_t_minus_1", "diffusion.q_sample", D,
       '    ab = _at(sched["alpha_bars"], t, x0)\n',
       '    ab = _at(sched["alpha_bars"], (torch.as_tensor(t) - 1).clamp(min=0), x0)\n',
       "test_q_sample_closed_form", "t off by one"),
    _m("p_losses_target_x0", "diffusion.p_losses", D,
       "    return F.mse_loss(eps, noise)\n", "    return F.mse_loss(eps, x0)\n",
       "test_p_losses_l2", "predicts x0 instead of the noise"),
    _m("p_losses_t_not_normalised", "diffusion.p_losses", D,
       '    t_norm = t.to(x0.dtype) / len(sched["betas"])\n', "    t_norm = t.to(x0.dtype)\n",
       "test_p_losses_unet_inputs", "the integer t"),
    _m("p_losses_l1_for_l2", "diffusion.p_losses", D,
       '    if loss_type == "l1":\n        return F.l1_loss(eps, noise)\n    return F.mse_loss(eps, noise)\n',
       "    return F.l1_loss(eps, noise)\n",
       "test_p_losses_l2", "l1 loss where l2 was asked"),
    _m("p_losses_unet_gets_x0", "diffusion.p_losses", D,
       "    eps = call_unet(unet, x_t, t_norm, c)\n    if loss_type",
       "    eps = call_unet(unet, x0, t_norm, c)\n    if loss_type",
       "test_p_losses_unet_inputs", "x0 instead of x_t"),
    _m("noise_at_t0", "diffusion.p_sample", D,
       NOISE_T0, "    return mean + beta.sqrt() * z",
       "test_p_sample_no_noise_at_t0", "noise added at t = 0"),
    _m("sigma_beta_tilde", "diffusion.p_sample", D,
       NOISE_T0, '    ab_prev = torch.cat([torch.ones(1, device=ab.device), sched["alpha_bars"].to(ab.device)[:-1]])'
       '[t].to(x_t.dtype).reshape(ab.shape)\n'
       "    return mean + nonzero * ((1 - ab_prev) / (1 - ab) * beta).sqrt() * z",
       "test_p_sample_sigma", "sigma_t^2 = beta_tilde_t"),
    _m("sigma_no_sqrt", "diffusion.p_sample", D,
       NOISE_T0, "    return mean + nonzero * beta * z",
       "test_p_sample_sigma", "missing square root on the noise scale"),
    _m("mean_alpha_bar_denominator", "diffusion.p_sample", D,
       MEAN, "    mean = (x_t - beta / (1 - ab).sqrt() * eps) / ab.sqrt()",
       "test_p_sample_mean", "alpha_bar_t instead of alpha_t"),
    _m("p_sample_t_not_normalised", "diffusion.p_sample", D,
       '    t_norm = t.to(x_t.dtype) / len(sched["betas"])\n    eps = guided_prediction(',
       "    t_norm = t.to(x_t.dtype)\n    eps = guided_prediction(",
       "test_p_sample_unet_time", "the integer t"),
    _m("t_from_1", "diffusion.ddpm_forward", D,
       "        t = torch.randint(0, num_ts, (x0.shape[0],), device=x0.device)",
       "        t = torch.randint(1, num_ts, (x0.shape[0],), device=x0.device)",
       "test_ddpm_forward_t_range", "t = 0 is never drawn"),
    _m("dropout_never", "diffusion.ddpm_forward", D,
       "        mask = torch.rand(x0.shape[0], device=x0.device) >= p_uncond",
       "        mask = torch.ones(x0.shape[0], device=x0.device)",
       "test_ddpm_forward_p_uncond", "the class is never dropped"),
    _m("sample_ascending", "diffusion.ddpm_sample", D,
       "range(num_ts - 1, -1, -1)", "range(num_ts)",
       "test_ddpm_sample_timesteps", "ascending: sampling runs from t = T - 1 down to 0"),
    _m("sample_same_z", "diffusion.ddpm_sample", D,
       "    for i, t in enumerate(steps):\n        z = torch.randn(shape, generator=gen, device=device)\n",
       "    z = torch.randn(shape, generator=gen, device=device)\n    for i, t in enumerate(steps):\n",
       "test_ddpm_sample_fresh_noise", "draw a new z at every step"),
    _m("sample_unseeded", "diffusion.ddpm_sample", D,
       "    x = torch.randn(shape, generator=gen, device=device)\n", "    x = torch.randn(shape, device=device)\n",
       "test_ddpm_sample_seed", "torch.Generator seeded with `seed`"),
    # -- flow.py -----------------------------------------------------------------------------------
    _m("fm_interpolate_swapped", "flow.fm_interpolate", F,
       "    return (1 - t) * x0 + t * x1", "    return t * x0 + (1 - t) * x1",
       "test_fm_interpolate", "t and 1 - t swapped"),
    _m("fm_target_reversed", "flow.fm_forward", F,
       "    return F.mse_loss(u, x1 - noise)", "    return F.mse_loss(u, noise - x1)",
       "test_fm_forward_loss", "target x0 - x1"),
    _m("fm_no_dropout", "flow.fm_forward", F,
       "        c = class_dropout(c, p_uncond, mask)", "        c = class_dropout(c, 0.0, mask)",
       "test_fm_forward_p_uncond", "the class is never dropped"),
    _m("fm_backwards", "flow.fm_sample", F,
       "        t = torch.full((n,), i / num_ts, device=device)",
       "        t = torch.full((n,), 1 - i / num_ts, device=device)",
       "test_fm_sample_timesteps", "t from 1 down to 0"),
    _m("fm_step_size_1", "flow.fm_sample", F,
       FM_STEP, "        x = x + guided_prediction(unet, x, t, c, guidance_scale)",
       "test_fm_sample_euler", "step size 1 instead of 1 / n"),
    # -- unet.py -----------------------------------------------------------------------------------
    _m("conv_no_batchnorm", "unet.Conv.__init__", U,
       "            nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1),\n"
       "            nn.BatchNorm2d(out_channels),\n", "            nn.Conv2d(in_channels, out_channels, kernel_size=3, "
       "stride=1, padding=1),\n", "test_ops_layers", "BatchNorm2d"),
    _m("downconv_stride_1", "unet.DownConv.__init__", U,
       "kernel_size=3, stride=2, padding=1", "kernel_size=3, stride=1, padding=1",
       "test_conv_ops_shapes", "expected shape"),
    _m("upconv_kernel_3", "unet.UpConv.__init__", U,
       "kernel_size=4, stride=2, padding=1", "kernel_size=3, stride=2, padding=1",
       "test_conv_ops_shapes", "expected shape"),
    _m("flatten_without_gelu", "unet.Flatten.__init__", U,
       "        super().__init__(nn.AvgPool2d(kernel_size=7), nn.GELU())",
       "        super().__init__(nn.AvgPool2d(kernel_size=7))",
       "test_ops_layers", "GELU"),
    _m("unflatten_no_batchnorm", "unet.Unflatten.__init__", U,
       "            nn.ConvTranspose2d(in_channels, in_channels, kernel_size=7, stride=7, padding=0),\n"
       "            nn.BatchNorm2d(in_channels),\n",
       "            nn.ConvTranspose2d(in_channels, in_channels, kernel_size=7, stride=7, padding=0),\n",
       "test_ops_layers", "BatchNorm2d"),
    _m("convblock_one_conv", "unet.ConvBlock.__init__", U,
       "        super().__init__(Conv(in_channels, out_channels), Conv(out_channels, out_channels))",
       "        super().__init__(Conv(in_channels, out_channels))",
       "test_params_unconditional", "ConvBlock"),
    _m("downblock_no_convblock", "unet.DownBlock.__init__", U,
       "        super().__init__(DownConv(in_channels, out_channels), ConvBlock(out_channels, out_channels))",
       "        super().__init__(DownConv(in_channels, out_channels))",
       "test_params_unconditional", "down"),
    _m("upblock_single_conv", "unet.UpBlock.__init__", U,
       "        super().__init__(UpConv(in_channels, out_channels), ConvBlock(out_channels, out_channels))",
       "        super().__init__(UpConv(in_channels, out_channels), Conv(out_channels, out_channels))",
       "test_params_unconditional", "up"),
    _m("fcblock_no_gelu", "unet.FCBlock.__init__", U,
       "            nn.Linear(in_channels, out_channels),\n            nn.GELU(),\n",
       "            nn.Linear(in_channels, out_channels),\n",
       "test_unet_layer_counts", "GELU"),
    Mutant("missing_skip", "unet.UnconditionalUNet.__init__", (
        (U, "        self.up2 = UpBlock(2 * d, d)\n", "        self.up2 = UpBlock(d, d)\n"),
        (U, "        h = self.up2(torch.cat([h, e1], dim=1))\n", "        h = self.up2(h)\n"),
    ), "test_params_unconditional", "up2"),
    # torch.cat without dim= joins along the batch.
    _m("cat_without_dim", "unet.UnconditionalUNet.unet_pass", U,
       "        h = self.out_block(torch.cat([h, e0], dim=1))\n", "        h = self.out_block(torch.cat([h, e0]))\n",
       "test_unconditional_unet_shape", "torch.cat along dim 1"),
    _m("time_fc_widths_swapped", "unet.TimeConditionalUNet.__init__", U,
       "        self.fc1_t = FCBlock(1, 2 * num_hiddens)\n        self.fc2_t = FCBlock(1, num_hiddens)\n        # END",
       "        self.fc1_t = FCBlock(1, num_hiddens)\n        self.fc2_t = FCBlock(1, 2 * num_hiddens)\n        # END",
       "test_time_unet_shape", "fc1_t = FCBlock(1, 2D)"),
    _m("time_multiplies", "unet.TimeConditionalUNet.forward", U,
       "        return self.unet_pass(x, lambda h: h + t1, lambda h: h + t2)",
       "        return self.unet_pass(x, lambda h: h * t1, lambda h: h * t2)",
       "test_modulation_form", "the default modulation adds the time embedding"),
    _m("class_fc_input_width", "unet.ClassConditionalUNet.__init__", U,
       "        self.fc1_c = FCBlock(num_classes, 2 * num_hiddens)", "        self.fc1_c = FCBlock(1, 2 * num_hiddens)",
       "test_class_unet_shape", "the class blocks take the one-hot c"),
    _m("class_added", "unet.ClassConditionalUNet.forward", U,
       PASS, "lambda h: h + c1 + t1, lambda h: h + c2 + t2",
       "test_modulation_form", "c1 * h + t1"),
    _m("class_mask_ignored", "unet.ClassConditionalUNet.forward", U,
       "            c = c * mask.to(x.dtype).reshape(-1, 1)\n", "            pass\n",
       "test_class_unet_mask", "multiply c by mask"),
    # -- train.py ----------------------------------------------------------------------------------
    _m("denoiser_sigma_squared", "train.denoiser_loss", TR,
       "    return F.mse_loss(unet(add_noise(x, sigma)), x)", "    return F.mse_loss(unet(add_noise(x, sigma**2)), x)",
       "test_denoiser_loss", "sigma^2 * noise"),
    _m("purenoise_sees_x", "train.pure_noise_loss", TR,
       "    return F.mse_loss(unet(torch.randn_like(x)), x)", "    return F.mse_loss(unet(x + torch.randn_like(x)), x)",
       "test_pure_noise_loss", "the UNet must see only noise"),
    _m("no_zero_grad", "train.train_step", TR,
       "    optimizer.zero_grad(set_to_none=True)\n", "",
       "test_train_step", "gradients not zeroed"),
    _m("returns_tensor", "train.train_step", TR,
       "    return loss.item()\n", "    return loss\n",
       "test_train_step", "return loss.item()"),
]
