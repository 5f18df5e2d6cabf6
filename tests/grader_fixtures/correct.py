"""Correct implementations written differently from the reference: each must get full marks.
A grader that fails one of these punishes a right answer (a false failure).

To add one: a `Variant(...)` below whose edits keep the code right; the notebook submission is
graded beside them in tests/test_grader_correct.py.
"""

from __future__ import annotations

from tests.grader_fixtures.variants import Variant


def _v(name: str, *edits: tuple[str, str, str]) -> Variant:
    return Variant(f"correct_{name}", tuple(edits), frozenset(), "")


D, F, S, U, TR = "diffusion.py", "flow.py", "schedules.py", "unet.py", "train.py"

CORRECT: list[Variant] = [
    # alpha_bars as exp(cumsum(log alphas)) instead of cumprod
    _v("cumprod_through_log", (S, "torch.cumprod(alphas, dim=0)", "torch.exp(torch.cumsum(torch.log(alphas), dim=0))")),
    # the linear schedule from arange instead of linspace
    _v("linear_from_arange", (S, "    return torch.linspace(beta_start, beta_end, num_ts, dtype=torch.float32)",
                              "    steps = torch.arange(num_ts, dtype=torch.float64) / (num_ts - 1)\n"
                              "    return (beta_start + (beta_end - beta_start) * steps).to(torch.float32)")),
    # the reverse step through an estimate of x0 and the posterior q(x_{t-1} | x_t, x0)
    _v("posterior_through_x0", (D, "    mean = (x_t - beta / (1 - ab).sqrt() * eps) / alpha.sqrt()",
                                '    bars = sched["alpha_bars"]\n'
                                "    ab_prev = _at(torch.cat([torch.ones_like(bars[:1]), bars[:-1]]), t, x_t)\n"
                                "    x0_hat = (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()\n"
                                "    mean = (ab_prev.sqrt() * beta / (1 - ab)) * x0_hat "
                                "+ (alpha.sqrt() * (1 - ab_prev) / (1 - ab)) * x_t")),
    # the UNet gets t / T as (N, 1) instead of (N,)
    _v("time_as_column",
       (D, "    eps = call_unet(unet, x_t, t_norm, c)\n", "    eps = call_unet(unet, x_t, t_norm[:, None], c)\n"),
       (D, "    eps = guided_prediction(unet, x_t, t_norm, c, guidance_scale)",
        "    eps = guided_prediction(unet, x_t, t_norm.reshape(-1, 1), c, guidance_scale)"),
       (F, "    u = call_unet(unet, x_t, t, c)", "    u = call_unet(unet, x_t, t.reshape(-1, 1), c)")),
    # guidance as (1 + w) eps_c - w eps_u with w = gamma - 1
    _v("cfg_with_w", (D, "    return out_uncond + guidance_scale * (out_cond - out_uncond)",
                      "    w = guidance_scale - 1\n    return (1 + w) * out_cond - w * out_uncond")),
    # noise from torch.randn with explicit shape, dtype and device instead of randn_like
    _v("randn_explicit", (D, "        noise = torch.randn_like(x0)\n    ab = _at",
                          "        noise = torch.randn(x0.shape, dtype=x0.dtype, device=x0.device)\n    ab = _at")),
    # alpha_bar_t gathered instead of indexed
    _v("gather", (D, '    ab = _at(sched["alpha_bars"], t, x0)\n',
                  '    index = torch.as_tensor(t, device=x0.device).long().reshape(-1)\n'
                  '    ab = sched["alpha_bars"].to(x0.device).gather(0, index).to(x0.dtype).reshape(-1, 1, 1, 1)\n')),
    # the sampler seeds the global generator instead of using its own
    _v("global_seed", (D, "    gen = torch.Generator(device=device).manual_seed(seed)\n    shape",
                       "    torch.manual_seed(seed)\n    gen = None\n    shape")),
    # the flow-matching time grid from linspace
    _v("fm_time_grid", (F, "        t = torch.full((n,), i / num_ts, device=device)",
                        "        t = torch.linspace(0, 1, num_ts + 1, device=device)[i].expand(n)")),
    # the GIF's frames kept before each k-th step (the starting noise first), the result appended last
    _v("frames_before_the_step",
       (D, "        z = torch.randn(shape, generator=gen, device=device)\n"
           "        x = p_sample(unet, x, t, sched, z=z, c=c, guidance_scale=guidance_scale)\n"
           "        if frame_every and (i % frame_every == 0 or t == 0):\n"
           "            frames.append(x.detach().cpu())\n"
           "    return (x, frames) if frame_every else x\n",
        "        if frame_every and i % frame_every == 0:\n"
        "            frames.append(x.detach().cpu())\n"
        "        z = torch.randn(shape, generator=gen, device=device)\n"
        "        x = p_sample(unet, x, t, sched, z=z, c=c, guidance_scale=guidance_scale)\n"
        "    return (x, [*frames, x.detach().cpu()]) if frame_every else x\n")),
    # the loss written out by hand
    _v("mse_by_hand", (D, "    return F.mse_loss(eps, noise)\n", "    return ((eps - noise) ** 2).mean()\n")),
    # train.py: the noise drawn inline, and model.zero_grad() instead of the optimizer's
    _v("train_inline",
       (TR, "    return F.mse_loss(unet(add_noise(x, sigma)), x)",
        "    return F.mse_loss(unet(x + sigma * torch.randn_like(x)), x)"),
       (TR, "    optimizer.zero_grad(set_to_none=True)\n", "    model.zero_grad()\n")),
]
