"""AHSD2xx: architecture and ordered bounds — combinations PyTorch only rejects on the GPU.

Each of these would otherwise surface as an exception (or a silently empty clamp) after the data
was loaded and the device allocated; here they fail in milliseconds, before anything is built.
"""

from __future__ import annotations

from typing import Iterator

from ahsd_config.rules.registry import RuleContext, Violation, rule

FUSION_WIDTH = 64
"""Width of PriorityNet's signal-feature fusion (attention embedding); ahsd_train builds it."""


def _ordered_pair(ctx: RuleContext, low: str, high: str, what: str) -> Iterator[Violation]:
    pn = ctx.priority_net
    lo, hi = getattr(pn, low), getattr(pn, high)
    if lo >= hi:
        yield Violation(
            ("priority_net", low),
            f"priority_net.{low} = {lo:g} is not below priority_net.{high} = {hi:g}: the {what} "
            f"range is empty",
            hint=f"set {low} < {high}",
        )


@rule(
    code="AHSD201",
    severity="error",
    title="uncertainty bounds out of order",
    why="The uncertainty-bounds penalty pushes predicted uncertainty into [lower, upper]; with "
    "lower >= upper every prediction is penalised and the penalty's gradient never vanishes.",
    fix="Keep `uncertainty_lower_bound` below `uncertainty_upper_bound` (0.01 and 0.50).",
    bad="priority_net:\n  uncertainty_lower_bound: 0.6\n  uncertainty_upper_bound: 0.5\n",
    good="priority_net:\n  uncertainty_lower_bound: 0.01\n  uncertainty_upper_bound: 0.5\n",
    needs=("priority_net",),
)
def check_uncertainty_bounds_order(ctx: RuleContext) -> Iterator[Violation]:
    yield from _ordered_pair(ctx, "uncertainty_lower_bound", "uncertainty_upper_bound", "uncertainty")


@rule(
    code="AHSD202",
    severity="error",
    title="affine gain bounds out of order",
    why="The output affine gain is clamped to [min, max]; min >= max pins it to one value (or "
    "makes torch.clamp return max everywhere), so the calibration cannot learn.",
    fix="Keep `affine_gain_min` below `affine_gain_max` (1.2 and 2.5).",
    bad="priority_net:\n  affine_gain_min: 2.5\n  affine_gain_max: 1.2\n",
    good="priority_net:\n  affine_gain_min: 1.2\n  affine_gain_max: 2.5\n",
    needs=("priority_net",),
)
def check_affine_gain_order(ctx: RuleContext) -> Iterator[Violation]:
    yield from _ordered_pair(ctx, "affine_gain_min", "affine_gain_max", "affine gain")


@rule(
    code="AHSD203",
    severity="error",
    title="affine bias bounds out of order",
    why="The output affine bias is clamped to [min, max]; min >= max pins it, so the output "
    "floor cannot move.",
    fix="Keep `affine_bias_min` below `affine_bias_max` (-0.2 and 0.05).",
    bad="priority_net:\n  affine_bias_min: 0.1\n  affine_bias_max: -0.1\n",
    good="priority_net:\n  affine_bias_min: -0.2\n  affine_bias_max: 0.05\n",
    needs=("priority_net",),
)
def check_affine_bias_order(ctx: RuleContext) -> Iterator[Violation]:
    yield from _ordered_pair(ctx, "affine_bias_min", "affine_bias_max", "affine bias")


@rule(
    code="AHSD204",
    severity="error",
    title="attention heads do not divide the fusion width",
    why=f"Multi-head attention splits the {FUSION_WIDTH}-wide fusion embedding evenly across "
    "heads; PyTorch raises 'embed_dim must be divisible by num_heads' only when the model is "
    "built, after the data is loaded and the GPU was allocated.",
    fix=f"Use an `attention_num_heads` that divides {FUSION_WIDTH}: 1, 2, 4, 8, 16, 32 or 64.",
    bad="priority_net:\n  attention_num_heads: 6\n",
    good="priority_net:\n  attention_num_heads: 8\n",
    needs=("priority_net",),
)
def check_attention_heads_divide_width(ctx: RuleContext) -> Iterator[Violation]:
    heads = ctx.priority_net.attention_num_heads
    if FUSION_WIDTH % heads:
        divisors = ", ".join(str(d) for d in range(1, FUSION_WIDTH + 1) if FUSION_WIDTH % d == 0)
        yield Violation(
            ("priority_net", "attention_num_heads"),
            f"priority_net.attention_num_heads = {heads} does not divide the fusion width "
            f"{FUSION_WIDTH}: PyTorch would only fail after the GPU was allocated",
            hint=f"use one of {divisors}",
        )
