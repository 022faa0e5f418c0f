"""`TrainingConfig`: the whole training YAML, as the user's file has it from 2025-11-11 on."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import StrictModel, unused
from .components import ComponentsConfig, Stage
from .data import DataConfig
from .monitoring import MonitoringConfig, OutputConfig
from .neural_posterior import NeuralPosteriorConfig
from .priority_net import PriorityNetConfig
from .subsystems import AdaptiveSubtractorConfig, BiasCorrectorConfig, RLControllerConfig

Device = Literal["auto", "cuda", "cpu", "mps"]

_OTHER_SUBSYSTEM = "{} is another subsystem's section; ahsd-train trains PriorityNet only"


class TrainingConfig(StrictModel):
    """Root of `configs/enhanced_training.yaml`; every section is a frozen, strict model."""

    revision: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Migration revision the file is at (e.g. 'v15'); written by `ahsd-config "
        "stamp`/`migrate`. Missing is a warning (AHSD001), not a schema error.",
    )
    experiment_name: str = Field(
        min_length=1, description="Name of the experiment; names the run directory and logs."
    )
    random_seed: int = Field(
        ge=0,
        le=2**32 - 1,
        description="Seed for Python, NumPy and torch RNGs (0 .. 2**32-1, NumPy's range).",
    )
    device: Device = Field(
        description="Compute device: auto (CUDA if present, else CPU), cuda, cpu or mps "
        "(Apple GPU, used by the user in 2026)."
    )
    stage: Stage | None = Field(
        default=None,
        description="Training stage of the user's multi-stage pipeline (files of Nov 15-25 2025).",
        json_schema_extra=unused(_OTHER_SUBSYSTEM.format("stage")),
    )
    components: ComponentsConfig | None = Field(
        default=None,
        description="Per-stage component switches (files of Nov 15-25 2025).",
        json_schema_extra=unused(_OTHER_SUBSYSTEM.format("components")),
    )
    priority_net: PriorityNetConfig = Field(description="PriorityNet model, optimiser and loss.")
    neural_posterior: NeuralPosteriorConfig = Field(
        description="Flow-based posterior estimator.",
        json_schema_extra=unused(_OTHER_SUBSYSTEM.format("neural_posterior")),
    )
    adaptive_subtractor: AdaptiveSubtractorConfig = Field(
        description="Waveform subtraction between extractions.",
        json_schema_extra=unused(_OTHER_SUBSYSTEM.format("adaptive_subtractor")),
    )
    rl_controller: RLControllerConfig = Field(
        description="RL controller of inference complexity.",
        json_schema_extra=unused(_OTHER_SUBSYSTEM.format("rl_controller")),
    )
    bias_corrector: BiasCorrectorConfig = Field(
        description="Systematic-bias correction network.",
        json_schema_extra=unused(_OTHER_SUBSYSTEM.format("bias_corrector")),
    )
    data: DataConfig = Field(description="Dataset settings and the embedded synthetic source.")
    monitoring: MonitoringConfig = Field(description="Logging, checkpoints, health checks.")
    output: OutputConfig = Field(description="What a run writes.")
