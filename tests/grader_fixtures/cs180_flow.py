"""The cs180-flow dialect's corpus: CS180 flow-matching notebooks in the course's own API.

tests/dialects/cs180_flow/reference.py is a complete notebook in py-percent form (written like the
Fall 2024 one, tests/grader_fixtures/cs180_fa24.py, whose helpers build it), with the product time
modulation and flow matching's fm_forward / fm_sample, redefined for classes.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from .cs180_fa24 import Variant as Fa24Variant
from .cs180_fa24 import build_skeleton as fa24_skeleton

HERE = Path(__file__).resolve().parents[1] / "dialects" / "cs180_flow"
REFERENCE = HERE / "reference.py"
Variant = partial(Fa24Variant, source=REFERENCE, prefix="flow")
build_skeleton = partial(fa24_skeleton, source=REFERENCE, prefix="flow")

UNET = ["test_conv_ops_shapes", "test_flatten_fc_shapes", "test_blocks_shapes", "test_ops_layers",
        "test_unconditional_unet_shape", "test_time_unet_shape", "test_class_unet_shape", "test_params_unconditional",
        "test_conditioning_changes_output", "test_class_unet_mask_hides_the_class", "test_modulation_form_class"]
FORWARD = ["test_fm_forward_loss", "test_fm_forward_unet_inputs", "test_fm_forward_p_uncond"]
SAMPLE = ["test_fm_sample_euler", "test_fm_sample_timesteps", "test_fm_sample_cfg"]
ALL = UNET + FORWARD + SAMPLE
FLOW_PARTS = "flow"

TIME_FORWARD = """    x_0 = torch.randn_like(x_1)
    t = torch.rand(x_1.shape[0], 1, 1, 1, device=x_1.device)
    x_t = (1 - t) * x_0 + t * x_1
    return F.mse_loss(unet(x_t, t.reshape(-1, 1)), x_1 - x_0)"""
TIME_SAMPLER = """    for i in range(num_ts):
        t = torch.full((x.shape[0], 1), i / num_ts, device=dev)
        x = x + unet(x, t) / num_ts"""

CORRECT = [
    Variant("own_names_and_arguments", (
        # the sampler of the one observed submission: (unet, img_wh, num_ts, num_samples, device, seed)
        ("def fm_sample(unet, img_wh: tuple, num_ts: int, seed: int = 0) -> torch.Tensor:",
         "def fm_sample(unet, img_wh: tuple, num_ts: int, num_samples: int, device, seed: int = 0):"),
        ("    x = torch.randn(batch_size, 1, *img_wh, device=dev)",
         "    x = torch.randn(num_samples, 1, *img_wh, device=dev)"),
        # t drawn as (N,), noise with randn of the data's shape
        (TIME_FORWARD, TIME_FORWARD.replace("torch.randn_like(x_1)", "torch.randn(x_1.shape, device=x_1.device)")
         .replace("t = torch.rand(x_1.shape[0], 1, 1, 1, device=x_1.device)", "t = torch.rand(x_1.shape[0], "
                  "device=x_1.device)[:, None, None, None]")),
        # _class names for the class-conditioned functions
        ("def fm_forward(unet, x_1: torch.Tensor, c: torch.Tensor, p_uncond: float, num_ts: int) -> torch.Tensor:",
         "def fm_forward_class(unet, x_1: torch.Tensor, c: torch.Tensor, p_uncond: float, num_ts: int):"),
        ("def fm_sample(unet, c: torch.Tensor, img_wh: tuple, num_ts: int, guidance_scale: float = 5.0, "
         "seed: int = 0):",
         "def fm_sample_class(unet, c, img_wh, num_ts, guidance_scale=5.0, seed=0, display=False):"),
    )),
]

BUGS = [
    Variant("t_swapped", ((TIME_FORWARD, TIME_FORWARD.replace("x_t = (1 - t) * x_0 + t * x_1",
                                                              "x_t = t * x_0 + (1 - t) * x_1")),),
            frozenset({"test_fm_forward_loss", "test_fm_forward_unet_inputs"}), "t and 1 - t swapped",
            tests=FLOW_PARTS),
    Variant("target_reversed", ((TIME_FORWARD, TIME_FORWARD.replace("x_1 - x_0)", "x_0 - x_1)")),),
            frozenset({"test_fm_forward_loss"}), "target x0 - x1", tests=FLOW_PARTS),
    Variant("target_is_the_data", ((TIME_FORWARD, TIME_FORWARD.replace("x_1 - x_0)", "x_1)")),),
            frozenset({"test_fm_forward_loss"}), "target x1", tests=FLOW_PARTS),
    Variant("t_times_num_ts", ((TIME_FORWARD, TIME_FORWARD.replace("unet(x_t, t.reshape(-1, 1))",
                                                                   "unet(x_t, t.reshape(-1, 1) * num_ts)")),),
            frozenset({"test_fm_forward_loss", "test_fm_forward_unet_inputs"}), "t * num_ts", tests=FLOW_PARTS),
    Variant("uniform_noise", ((TIME_FORWARD, TIME_FORWARD.replace("torch.randn_like(x_1)", "torch.rand_like(x_1)")),),
            frozenset({"test_fm_forward_loss", "test_fm_forward_unet_inputs"}), "fm_forward", tests=FLOW_PARTS),
    Variant("step_of_one", ((TIME_SAMPLER, TIME_SAMPLER.replace("x = x + unet(x, t) / num_ts", "x = x + unet(x, t)")),),
            frozenset({"test_fm_sample_euler", "test_fm_sample_timesteps"}), "step size 1", tests=FLOW_PARTS),
    Variant("backwards_in_time", ((TIME_SAMPLER, TIME_SAMPLER.replace("i / num_ts, device",
                                                                      "1 - i / num_ts, device")),),
            frozenset({"test_fm_sample_euler", "test_fm_sample_timesteps"}), "from 1 down to 0", tests=FLOW_PARTS),
    Variant("time_one_step_late", ((TIME_SAMPLER, TIME_SAMPLER.replace("i / num_ts, device",
                                                                       "(i + 1) / num_ts, device")),),
            frozenset({"test_fm_sample_euler", "test_fm_sample_timesteps"}), "(i + 1) / n", tests=FLOW_PARTS),
    Variant("guidance_sign_flipped", (("x = x + (u_u + guidance_scale * (u_c - u_u)) / num_ts",
                                       "x = x + (u_c + guidance_scale * (u_u - u_c)) / num_ts"),),
            frozenset({"test_fm_sample_cfg"}), "guidance sign flipped", tests=FLOW_PARTS),
    Variant("class_kept_with_probability_p", (("mask = (torch.rand(x_1.shape[0], device=x_1.device) >= p_uncond)",
                                               "mask = (torch.rand(x_1.shape[0], device=x_1.device) < p_uncond)"),),
            frozenset({"test_fm_forward_p_uncond"}), "inverted", tests=FLOW_PARTS),
    Variant("relu_in_conv", (("self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 1, 1), "
                              "nn.BatchNorm2d(out_channels), nn.GELU())",
                              "self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 1, 1), "
                              "nn.BatchNorm2d(out_channels), nn.ReLU())"),),
            frozenset({"test_ops_layers", "test_params_unconditional"}), "Conv2d -> BatchNorm2d -> GELU"),
]
