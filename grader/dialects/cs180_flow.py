"""CS180 flow matching (Spring 2025's flow-matching Project 5B and Fall 2025's "Flow Matching from
Scratch!"): the UNets of Fall 2024 with the time embedding multiplied in (unflatten * t1, up1 * t2),
a training loss and an Euler sampler from noise (t = 0) to data (t = 1). The spring page names no
functions; the worker's adapter (grader/worker/dialects/cs180_flow.py) finds them by the names the
notebooks use (fm_forward, fm_sample; a class-conditioned version redefined or with a _class suffix)
and their arguments by role.

What applies: the UNet's shapes, ops and the unconditional design, conditioning; the flow loss with the
grader's noise and t (fed to the course's own random draws), the UNet's inputs in it, the class dropout,
and the sampler's Euler steps, times and guidance. Its own tests, shared with cs180-fa24-ddpm: the
class-conditioned form and the mask hiding the class. Not part of it: the contract's additive time UNet
and its designs with it (this handout multiplies), fm_interpolate (inline in the course), the
sampler's seed and GIF frames, the FlowMatching wrapper (the course's has no fixed name), the DDPM parts,
training and the deliverable figures.
"""

from __future__ import annotations

from .base import Dialect, contract_only


def _detect(defined: dict[str, set[str]]) -> str | None:
    if contract_only(defined):
        return None
    for stem, names in sorted(defined.items()):
        if "fm_sample" in names and {"fm_forward", "fm_forward_class"} & names:
            return (f"{stem} defines fm_forward and fm_sample and none of the contract's fm_interpolate, "
                    "q_sample, p_sample")
    return None


CS180_FLOW = Dialect(
    name="cs180-flow",
    title="CS180 flow matching (Spring / Fall 2025 Project 5B: the notebook's UNets, fm_forward, fm_sample)",
    also=(
        "test_conv_ops_shapes", "test_flatten_fc_shapes", "test_blocks_shapes", "test_ops_layers",
        "test_unconditional_unet_shape", "test_time_unet_shape", "test_class_unet_shape", "test_params_unconditional",
        "test_conditioning_changes_output",
        "test_fm_forward_loss", "test_fm_forward_unet_inputs", "test_fm_forward_p_uncond",
        "test_fm_sample_euler", "test_fm_sample_timesteps", "test_fm_sample_cfg",
    ),
    adapter="cs180_flow",
    detect=_detect,
)
