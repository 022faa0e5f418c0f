"""`stage` and `components`: the user's staged-training switches (files of Nov 15-25 2025 only).

Stage 1A trained the posterior estimator with PriorityNet disabled, 1B the RL controller with
PriorityNet frozen, 1C everything jointly. `ahsd-train` trains PriorityNet alone and reads neither.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import StrictModel

Stage = Literal["1A", "1B", "1C"]
"""1A: NPE training (PriorityNet off); 1B: RL controller (PriorityNet frozen); 1C: joint."""


class ComponentsConfig(StrictModel):
    """Which subsystems the user's multi-stage pipeline trains in the current `stage`."""

    priority_net: bool = Field(description="Train PriorityNet in this stage (off in stage 1A).")
    context_encoder: bool = Field(description="Train the strain context encoder of the NPE.")
    normalizing_flow: bool = Field(description="Train the NPE normalizing flow.")
    bias_corrector: bool = Field(description="Train the bias-correction network.")
    uncertainty_estimator: bool = Field(description="Train the uncertainty estimator.")
    rl_controller: bool = Field(description="Train the RL complexity controller (from stage 1B).")
    adaptive_subtractor: bool = Field(description="Train the adaptive subtractor (future work).")
