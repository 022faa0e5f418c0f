"""`monitoring` and `output`: logging, checkpointing, and the training health checks.

`monitoring.health` is the project's section: the thresholds the trainer's health checks use to
stop (or skip) a run going the way of the Nov 2025 grad-norm 28.9 explosion.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import PositiveInt, Seq, StrictModel, unused


class HealthConfig(StrictModel):
    """Thresholds of the per-step training health checks."""

    nonfinite_policy: Literal["stop", "skip"] = Field(
        default="stop",
        description="On a NaN/inf loss or gradient: stop the run, or skip the step (up to "
        "`max_skipped_steps`).",
    )
    max_skipped_steps: int = Field(
        default=10, ge=0, description="Non-finite steps skipped before the run stops anyway (count)."
    )
    loss_spike_factor: float = Field(
        default=3.0,
        gt=1,
        description="A step loss above this multiple of the recent running mean is a spike (> 1).",
    )
    max_spike_fraction: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="Largest fraction of steps that may spike before the loss is reported as not "
        "decreasing smoothly, in [0, 1] (one hard batch in a thousand steps is not instability).",
    )
    max_component_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Largest share of the total loss one penalty term may take before it is "
        "reported as dominating, in (0, 1] (the seed's root cause: penalties dwarfing the loss).",
    )
    max_clipped_fraction: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Largest fraction of an epoch's steps whose gradient may be clipped before "
        "the clip norm is reported as too tight, in [0, 1].",
    )
    grad_norm_typical_max: float = Field(
        default=3.0,
        gt=0,
        description="Upper end of a healthy pre-clip gradient norm; the Nov 15 2025 checklist "
        "expected '~1-3 typical'.",
    )


class RLMonitoringConfig(StrictModel):
    """What the user's pipeline logs about the RL controller."""

    track_complexity_changes: bool = Field(description="Log each complexity-level change.")
    log_rl_rewards: bool = Field(description="Log RL rewards.")
    complexity_distribution: bool = Field(description="Log the histogram of chosen levels.")


class BiasMonitoringConfig(StrictModel):
    """What the user's pipeline logs about the bias corrector."""

    track_correction_effectiveness: bool = Field(description="Log how much corrections help.")
    log_physics_violations: bool = Field(description="Log corrected values outside priors.")


class MonitoringConfig(StrictModel):
    """Logging and checkpoint cadence, early stopping, and health thresholds."""

    save_frequency: PositiveInt = Field(description="Save a checkpoint every N epochs.")
    log_frequency: PositiveInt = Field(description="Log epoch metrics every N epochs.")
    early_stopping: bool = Field(
        description="Stop after `priority_net.patience` epochs without validation improvement."
    )
    metrics: Seq[str] = Field(
        description="Metric names the user's pipeline tracks.",
        json_schema_extra=unused(
            "names NPE/RL metrics; ahsd-train logs a fixed set (loss components, gradient norm, "
            "Kendall tau)"
        ),
    )
    rl_monitoring: RLMonitoringConfig = Field(
        description="RL controller logging.",
        json_schema_extra=unused("rl_controller is not trained by ahsd-train"),
    )
    bias_monitoring: BiasMonitoringConfig = Field(
        description="Bias corrector logging.",
        json_schema_extra=unused("bias_corrector is not trained by ahsd-train"),
    )
    health: HealthConfig = Field(
        default_factory=HealthConfig,
        description="Thresholds of the training health checks (a project section; defaults apply).",
    )


class OutputConfig(StrictModel):
    """What a run writes."""

    save_best_only: bool = Field(description="Keep only the best-validation checkpoint as best.pt.")
    save_intermediate: bool = Field(
        description="Also keep the periodic checkpoints (every `monitoring.save_frequency` epochs)."
    )
    generate_plots: bool = Field(description="Write training-curve plots into the run directory.")
