"""AHSD1xx: optimisation and the composite loss — the rules the Nov 15 2025 explosion taught.

The arithmetic (active loss components, primary and penalty sums, per-replica batch) lives in
small pure functions so the trainer's health checks and the tests use the same numbers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterator

from ahsd_config.rules.registry import RuleContext, Violation, rule

if TYPE_CHECKING:
    from ahsd_config.schema import PriorityNetConfig

PRIMARY_WEIGHTS = ("ranking_weight", "mse_weight", "uncertainty_weight")
PENALTY_WEIGHTS = (
    "calib_mean_weight",
    "calib_max_weight",
    "calib_range_weight",
    "min_variance_penalty_weight",
    "uncertainty_bounds_weight",
)
LOSS_COMPONENT_WEIGHTS = PRIMARY_WEIGHTS + PENALTY_WEIGHTS

BATCHNORM_ERROR_BELOW = 8  # below this, BatchNorm's batch statistics are noise
BATCHNORM_WARN_BELOW = 16
CLIP_PER_COMPONENT = 0.5  # each active loss term may push the gradient norm by about this much
CLIP_EFFECTIVELY_OFF = 50.0
PRIMARY_SUM_TARGET = 1.0
PRIMARY_SUM_TOLERANCE = 0.05
PENALTY_ERROR_RATIO = 5.0


def weights(pn: "PriorityNetConfig", names: tuple[str, ...]) -> dict[str, float]:
    return {name: float(getattr(pn, name)) for name in names}


def primary_sum(pn: "PriorityNetConfig") -> float:
    """Sum of the weights of the losses that teach the ranking (ranking, MSE, uncertainty)."""
    return sum(weights(pn, PRIMARY_WEIGHTS).values())


def penalty_sum(pn: "PriorityNetConfig") -> float:
    """Sum of the regulariser weights: calibration mean/max/range, min-variance, uncertainty bounds."""
    return sum(weights(pn, PENALTY_WEIGHTS).values())


def active_loss_components(pn: "PriorityNetConfig") -> int:
    """Loss terms with a nonzero weight: each adds its own gradient to the total."""
    return sum(1 for value in weights(pn, LOSS_COMPONENT_WEIGHTS).values() if value != 0)


def clip_floor(pn: "PriorityNetConfig") -> float:
    """Smallest sensible `gradient_clip_norm` for this loss: 0.5 per active component."""
    return CLIP_PER_COMPONENT * active_loss_components(pn)


def per_replica_batch(pn: "PriorityNetConfig") -> int:
    """Scenarios one BatchNorm layer normalises over (the schema's `batchnorm_batch`, built on its
    one `per_replica_batch`): the whole batch only with SyncBatchNorm."""
    return pn.batchnorm_batch()


def _num(value: float) -> str:
    """Numbers as the file writes them: 24, 2.0, 0.35, 1e-05 (a float keeps its decimal point)."""
    return repr(value) if isinstance(value, float) else str(value)


@rule(
    code="AHSD101",
    severity="error",
    title="BatchNorm batch too small",
    why="With the strain encoder on, the model normalises with BatchNorm over each replica's "
    "batch. Below 8 scenarios the batch mean and variance are noise, the normalised activations "
    "jump from step to step and the gradient norm explodes (batch 6 gave grad norm 28.9 at "
    "epoch 3 on Nov 15 2025).",
    fix="Raise `priority_net.batch_size` so each replica sees >= 16 scenarios (24 fixed the "
    "Nov 15 run), or turn on `priority_net.sync_batchnorm` when training on several replicas.",
    bad="priority_net:\n  batch_size: 6\n",
    good="priority_net:\n  batch_size: 24\n",
    needs=("priority_net",),
)
def check_batchnorm_batch(ctx: RuleContext) -> Iterator[Violation]:
    pn = ctx.priority_net
    if not pn.use_strain:
        return  # no strain encoder, no BatchNorm
    batch = per_replica_batch(pn)
    if batch >= BATCHNORM_WARN_BELOW:
        return
    subject = f"priority_net.batch_size = {pn.batch_size}"
    if pn.world_size > 1 and not pn.sync_batchnorm:
        subject += f" over world_size = {pn.world_size} replicas gives {batch:g} per replica, which"
    if batch < BATCHNORM_ERROR_BELOW:
        message = (f"{subject} is below {BATCHNORM_ERROR_BELOW}, the smallest batch BatchNorm gets usable "
                   f"statistics from; use >= {BATCHNORM_WARN_BELOW} (24 fixed the Nov 15 run)")
        severity = "error"
    else:
        message = (f"{subject} is below {BATCHNORM_WARN_BELOW}: BatchNorm statistics are noisy at this "
                   f"size; use >= {BATCHNORM_WARN_BELOW} (24 fixed the Nov 15 run)")
        severity = "warning"
    yield Violation(("priority_net", "batch_size"), message, severity=severity,
                    hint="raise priority_net.batch_size to 24 (or enable priority_net.sync_batchnorm "
                    "across replicas)")


@rule(
    code="AHSD102",
    severity="error",
    title="gradient clip norm out of range",
    why="Clipping rescales every step whose gradient norm is above the limit. A limit below about "
    "0.5 per active loss term clips almost every step and suppresses legitimate gradients (2.0 "
    "for a loss with six or more terms on Nov 15 2025); above 50 it never triggers; 0 or "
    "negative disables training altogether.",
    fix="Set `priority_net.gradient_clip_norm` between 0.5 x the number of active loss terms and "
    "50 (5.0 fixed the Nov 15 run).",
    bad="priority_net:\n  gradient_clip_norm: 2.0\n",
    good="priority_net:\n  gradient_clip_norm: 5.0\n",
    needs=("priority_net",),
)
def check_gradient_clip(ctx: RuleContext) -> Iterator[Violation]:
    pn = ctx.priority_net
    clip = float(pn.gradient_clip_norm)
    key = ("priority_net", "gradient_clip_norm")
    if not math.isfinite(clip) or clip <= 0:
        yield Violation(key, f"priority_net.gradient_clip_norm = {_num(clip)} must be a finite number above 0",
                        hint="use 5.0")
        return
    floor = clip_floor(pn)
    if clip < floor:
        yield Violation(
            key,
            f"priority_net.gradient_clip_norm = {_num(clip)} is below {_num(floor)} (0.5 x "
            f"{active_loss_components(pn)} active loss components): it suppresses legitimate gradients",
            severity="warning",
            hint=f"raise it to >= {_num(floor)} (5.0 fixed the Nov 15 run)",
        )
    elif clip > CLIP_EFFECTIVELY_OFF:
        yield Violation(
            key,
            f"priority_net.gradient_clip_norm = {_num(clip)} is above {_num(CLIP_EFFECTIVELY_OFF)}: "
            f"clipping is effectively off and a gradient spike goes straight into the weights",
            severity="warning",
            hint=f"use a value between {_num(floor)} and {_num(CLIP_EFFECTIVELY_OFF)}, e.g. 5.0",
        )


def unit_scale_clip(pn: "PriorityNetConfig") -> float:
    """The clip as the unit-scale gradient sees it: clipping the gradient of `scale x loss` at `c`
    is clipping the gradient of the loss itself at `c / scale` (the gradient is linear in the scale)."""
    return float(pn.gradient_clip_norm) / float(pn.loss_scale_factor)


@rule(
    code="AHSD108",
    severity="warning",
    title="clip norm made inert by the loss scale",
    why="`ahsd-train` multiplies the loss by `loss_scale_factor` before backward and clips the "
    "resulting gradient, so the clip acts on the unit-scale gradient at gradient_clip_norm / "
    "loss_scale_factor. At 0.002 a clip of 2.0 sits at 1000: on the Nov 15 pre-fix config (v15d, "
    "2048 synthetic scenarios) 0 % of steps were clipped at 0.002 against 100 / 96 / 81 % in "
    "epochs 1-3 at 1.0 (unit-scale norms 48 / 14 / 10). Adam's update does not change with a "
    "constant loss scale (the same norms and losses to 3 digits with the clip off), so the scale "
    "buys nothing and silently switches the clip off (or, above 1, makes it clip every step).",
    fix="Set `priority_net.loss_scale_factor: 1.0` and keep the clip where the seed note meant it "
    "(5.0), or write the clip at the scale you train at (gradient_clip_norm x loss_scale_factor).",
    bad="priority_net:\n  loss_scale_factor: 0.002\n  gradient_clip_norm: 5.0\n",
    good="priority_net:\n  loss_scale_factor: 1.0\n  gradient_clip_norm: 5.0\n",
    needs=("priority_net",),
)
def check_clip_at_unit_scale(ctx: RuleContext) -> Iterator[Violation]:
    pn = ctx.priority_net
    clip, scale = float(pn.gradient_clip_norm), float(pn.loss_scale_factor)
    if scale == 1.0 or not math.isfinite(clip) or clip <= 0 or clip > CLIP_EFFECTIVELY_OFF:
        return  # a bad clip itself is AHSD102's finding
    effective, floor = unit_scale_clip(pn), clip_floor(pn)
    subject = (f"priority_net.loss_scale_factor = {_num(scale)} with gradient_clip_norm = {_num(clip)} "
               f"clips the unit-scale gradient at {effective:.6g} ({_num(clip)} / {_num(scale)})")
    if effective > CLIP_EFFECTIVELY_OFF:
        message = f"{subject}, above {_num(CLIP_EFFECTIVELY_OFF)}: the clip never engages"
    elif effective < floor:
        message = (f"{subject}, below {_num(floor)} (0.5 x {active_loss_components(pn)} active loss "
                   f"components): it clips almost every step")
    else:
        return
    yield Violation(("priority_net", "loss_scale_factor"), message,
                    hint=f"set priority_net.loss_scale_factor: 1.0 (the clip then means {_num(clip)}), "
                    f"or gradient_clip_norm: {clip * scale:.3g} to clip at {_num(clip)} at this scale")


@rule(
    code="AHSD103",
    severity="error",
    title="primary loss weights",
    why="The ranking, MSE and uncertainty losses are what teach the extraction order. A negative "
    "weight trains the model to get it wrong; all zero leaves nothing to learn but penalties; a "
    "sum far from 1 silently rescales the learning rate and the balance against the penalties.",
    fix="Keep ranking_weight, mse_weight and uncertainty_weight >= 0 with a sum of 1.0 "
    "(e.g. 0.70 / 0.20 / 0.10).",
    bad="priority_net:\n  ranking_weight: 0.70\n  mse_weight: 0.20\n  uncertainty_weight: 0.35\n",
    good="priority_net:\n  ranking_weight: 0.70\n  mse_weight: 0.20\n  uncertainty_weight: 0.10\n",
    needs=("priority_net",),
)
def check_primary_weights(ctx: RuleContext) -> Iterator[Violation]:
    pn = ctx.priority_net
    primary = weights(pn, PRIMARY_WEIGHTS)
    for name, value in primary.items():
        if value < 0:
            yield Violation(("priority_net", name), f"priority_net.{name} = {_num(value)} is negative; "
                            f"a loss weight must be >= 0", hint=f"set priority_net.{name} >= 0")
    if any(value < 0 for value in primary.values()):
        return
    total = sum(primary.values())
    key = ("priority_net", "ranking_weight")
    if total == 0:
        yield Violation(key, "priority_net.ranking_weight, mse_weight and uncertainty_weight are all 0: "
                        "nothing teaches the ranking", hint="e.g. ranking 0.70, mse 0.20, uncertainty 0.10")
    elif abs(total - PRIMARY_SUM_TARGET) > PRIMARY_SUM_TOLERANCE:
        parts = " + ".join(_num(v) for v in primary.values())
        yield Violation(
            key,
            f"primary loss weights ranking_weight + mse_weight + uncertainty_weight = {parts} = "
            f"{total:.2f}, outside 1.0 +/- {PRIMARY_SUM_TOLERANCE}",
            severity="warning",
            hint="rescale the three weights so they sum to 1.0",
        )


@rule(
    code="AHSD104",
    severity="error",
    title="penalty weights dominate the loss",
    why="The calibration, min-variance and uncertainty-bounds penalties are regularisers. When "
    "their weights outweigh the ranking/MSE/uncertainty losses, the gradient follows the "
    "penalties, the loss landscape turns sharp and the gradient norm explodes — the root cause "
    "of the Nov 15 2025 grad-norm 28.9 run (penalties 14.85 against a primary 1.25).",
    fix="Lower calib_max_weight / calib_range_weight / min_variance_penalty_weight until the "
    "penalty sum is at most the primary sum (the Nov 15 fix: 2.50 -> 1.00, 2.00 -> 0.75, "
    "min-variance 10 -> 2), or enable priority_net.normalize_loss_by_components.",
    bad="priority_net:\n  calib_max_weight: 2.50\n  calib_range_weight: 2.00\n"
    "  min_variance_penalty_weight: 10.0\n",
    good="priority_net:\n  calib_mean_weight: 0.10\n  calib_max_weight: 0.20\n  calib_range_weight: 0.20\n"
    "  min_variance_penalty_weight: 0.40\n  uncertainty_bounds_weight: 0.05\n",
    needs=("priority_net",),
)
def check_penalty_dominance(ctx: RuleContext) -> Iterator[Violation]:
    pn = ctx.priority_net
    primary, penalty = primary_sum(pn), penalty_sum(pn)
    if penalty <= primary or primary <= 0:
        return  # all-zero primary weights are AHSD103's error
    ratio = penalty / primary
    largest = max(PENALTY_WEIGHTS, key=lambda name: float(getattr(pn, name)))
    message = (f"penalty weights sum to {penalty:.2f} (calib_mean + calib_max + calib_range + "
               f"min_variance_penalty + uncertainty_bounds), {ratio:.1f}x the primary loss weights' "
               f"{primary:.2f}; largest: priority_net.{largest} = {_num(float(getattr(pn, largest)))}")
    if not ctx.has(f"priority_net.{largest}"):
        message += " (its default; the key is not written in the file)"
    if ratio > PENALTY_ERROR_RATIO:
        message += f"; above {_num(PENALTY_ERROR_RATIO)}x the penalties drive the gradient"
    yield Violation(
        ("priority_net", largest),
        message,
        severity="error" if ratio > PENALTY_ERROR_RATIO else "warning",
        hint=f"lower the penalty weights to a sum <= {primary:.2f}, or set "
        "priority_net.normalize_loss_by_components: true",
    )


@rule(
    code="AHSD105",
    severity="error",
    title="min_lr not below learning_rate",
    why="ReduceLROnPlateau lowers the LR toward `min_lr`; a floor at or above the peak LR means "
    "the scheduler can never lower it (or, after warm-up, raises it).",
    fix="Set `priority_net.min_lr` well below `priority_net.learning_rate` (e.g. lr / 30).",
    bad="priority_net:\n  learning_rate: 1.0e-6\n  min_lr: 1.0e-5\n",
    good="priority_net:\n  learning_rate: 3.0e-5\n  min_lr: 1.0e-6\n",
    needs=("priority_net",),
)
def check_min_lr_below_lr(ctx: RuleContext) -> Iterator[Violation]:
    pn = ctx.priority_net
    if pn.min_lr >= pn.learning_rate:
        yield Violation(
            ("priority_net", "min_lr"),
            f"priority_net.min_lr = {_num(pn.min_lr)} is not below priority_net.learning_rate = "
            f"{_num(pn.learning_rate)}: the scheduler can never lower the LR",
            hint=f"use min_lr <= {pn.learning_rate / 10:g}",
        )


@rule(
    code="AHSD106",
    severity="error",
    title="warm-up not shorter than training",
    why="Warm-up ramps the LR linearly to its peak over `warmup_epochs`; if that is not shorter "
    "than `epochs` the run ends before it ever trains at the configured learning rate.",
    fix="Make `priority_net.warmup_epochs` a small fraction of `priority_net.epochs` (6 of 200).",
    bad="priority_net:\n  epochs: 10\n  warmup_epochs: 10\n",
    good="priority_net:\n  epochs: 100\n  warmup_epochs: 10\n",
    needs=("priority_net",),
)
def check_warmup_shorter_than_training(ctx: RuleContext) -> Iterator[Violation]:
    pn = ctx.priority_net
    if pn.warmup_epochs >= pn.epochs:
        yield Violation(
            ("priority_net", "warmup_epochs"),
            f"priority_net.warmup_epochs = {pn.warmup_epochs} is not below priority_net.epochs = "
            f"{pn.epochs}: the run never reaches the peak learning rate",
            hint=f"use warmup_epochs < {pn.epochs} (about 5% of the epochs)",
        )


@rule(
    code="AHSD107",
    severity="warning",
    title="scheduler patience not below early-stopping patience",
    why="ReduceLROnPlateau waits `scheduler_patience` flat epochs before lowering the LR; early "
    "stopping ends the run after `patience` flat epochs. With scheduler_patience >= patience the "
    "run stops before the LR ever drops.",
    fix="Keep `priority_net.scheduler_patience` well below `priority_net.patience` (7 vs 15).",
    bad="priority_net:\n  patience: 10\n  scheduler_patience: 10\n",
    good="priority_net:\n  patience: 15\n  scheduler_patience: 7\n",
    needs=("priority_net", "monitoring"),
)
def check_scheduler_patience(ctx: RuleContext) -> Iterator[Violation]:
    pn = ctx.priority_net
    if not ctx.section("monitoring").early_stopping:
        return  # without early stopping `patience` ends nothing
    if pn.scheduler_patience >= pn.patience:
        yield Violation(
            ("priority_net", "scheduler_patience"),
            f"priority_net.scheduler_patience = {pn.scheduler_patience} is not below "
            f"priority_net.patience = {pn.patience}: early stopping ends the run before the LR drops",
            hint=f"use scheduler_patience <= {max(pn.patience // 2, 0)}",
        )
