"""CS180/280A Fall 2024 Project 5B: the staff notebook's UNets, `ddpm_schedule`, `ddpm_forward`,
`ddpm_sample` and `DDPM`, whose class-conditioned section redefines the last three under the same
names. The worker's adapter (grader/worker/dialects/cs180_fa24.py) picks the definition a probe needs.

What applies: the UNet tests (the contract's UNets are this handout's; c is passed as the course's
int64 labels, t as (N, 1)), `ddpm_schedule`, `ddpm_forward`'s draws of t and of the class dropout, the
DDPM wrapper's loss, and the sampler's steps, shape, last step, noise and guidance. Its own tests: the
class-conditioned form c1 * h + t1, the mask hiding the class (labels have no zero row), and
`ddpm_forward`'s closed form read from the UNet's input. Not part of it: Part 1's noising function (the
handout noises inline), the separate schedules, `q_sample`, `p_losses` and `p_sample` (they live inside
`ddpm_forward` and `ddpm_sample`), `modulation="mul"` and the time-only UNet's two forms (fa24 adds
only), a sampler's seed (the handout leaves seeding free), GIF frames (its caches are free-form), flow
matching, training and the deliverable figures.
"""

from __future__ import annotations

from .base import Dialect, contract_only


def _detect(defined: dict[str, set[str]]) -> str | None:
    if contract_only(defined):
        return None
    for stem, names in sorted(defined.items()):
        if {"ddpm_forward_class", "ddpm_sample_class", "DDPM_Class"} & names:
            return f"{stem} defines the _class functions of CS180's Project 5B"
        if {"ddpm_schedule", "ddpm_forward", "ddpm_sample"} <= names:
            return (f"{stem} defines ddpm_schedule, ddpm_forward and ddpm_sample and none of the contract's "
                    "q_sample, p_sample, p_losses, add_noise")
    return None


CS180_FA24 = Dialect(
    name="cs180-fa24-ddpm",
    title="CS180/280A Fall 2024 Project 5B (the staff notebook's UNets, ddpm_schedule, ddpm_forward, "
          "ddpm_sample, DDPM)",
    also=(
        "test_conv_ops_shapes", "test_flatten_fc_shapes", "test_blocks_shapes", "test_ops_layers",
        "test_unconditional_unet_shape", "test_time_unet_shape", "test_class_unet_shape", "test_params_unconditional",
        "test_params_conditional", "test_unet_layer_counts",
        "test_conditioning_changes_output",
        "test_ddpm_schedule",
        "test_ddpm_forward_t_range", "test_ddpm_forward_p_uncond", "test_ddpm_forward_p_uncond_argument",
        "test_ddpm_wrapper_forward",
        "test_ddpm_sample_calls", "test_ddpm_sample_timesteps", "test_ddpm_sample_shape",
        "test_ddpm_sample_last_step", "test_ddpm_sample_fresh_noise", "test_ddpm_sample_cfg",
    ),
    modules=(),
    adapter="cs180_fa24",
    detect=_detect,
)
