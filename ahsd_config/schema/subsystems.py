"""`adaptive_subtractor`, `rl_controller`, `bias_corrector`: the decomposition's other subsystems.

`ahsd-train` reads none of these sections (marked unused in `root.py`); they are validated so a
typo in them is still caught before the user's own pipeline takes a GPU.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import (
    ComplexityLevel,
    DropoutRate,
    NonNegFloat,
    PositiveInt,
    Probability,
    Seq,
    StrictModel,
)

class AdaptiveSubtractorConfig(StrictModel):
    """Subtracts an extracted signal's waveform from the strain before the next extraction."""

    complexity_level: ComplexityLevel = Field(description="Default subtraction effort level.")
    waveform_approximant: str = Field(
        min_length=1, description="LALSuite waveform approximant used to model the signal."
    )
    post_newtonian_order: str = Field(
        pattern=r"^\d+(\.\d+)?PN$", description="Post-Newtonian phase order, e.g. '3.5PN'."
    )
    spin_effects: bool = Field(description="Include spin effects in the subtracted waveform.")
    tidal_effects: bool = Field(description="Include tidal effects in the subtracted waveform.")
    base_strength: Probability = Field(description="Fraction of the model waveform subtracted at first.")
    max_strength: Probability = Field(description="Largest fraction subtracted after adaptation.")
    uncertainty_threshold: NonNegFloat = Field(
        description="Posterior uncertainty above which subtraction strength is reduced."
    )
    match_threshold: Probability = Field(
        description="Minimum waveform match (overlap, 0..1) for a subtraction to be accepted."
    )

class ComplexityConfig(StrictModel):
    """Inference effort at one complexity level."""

    flow_layers: PositiveInt = Field(description="Flow transforms used at this level (count).")
    inference_samples: PositiveInt = Field(description="Posterior samples drawn at this level.")

class RLControllerConfig(StrictModel):
    """Epsilon-greedy controller choosing the inference complexity per extraction step."""

    enabled: bool = Field(description="Use the controller (off = fixed complexity).")
    state_features: Seq[str] = Field(min_length=1, description="Observations forming the RL state.")
    complexity_levels: Seq[ComplexityLevel] = Field(
        min_length=1, description="Actions: the complexity levels the controller chooses between."
    )
    complexity_configs: dict[ComplexityLevel, ComplexityConfig] = Field(
        description="Inference effort per complexity level (level -> {flow_layers, inference_samples})."
    )
    learning_rate: float = Field(gt=0, description="Q-network learning rate.")
    epsilon: Probability = Field(description="Exploration probability at the start, in [0, 1].")
    epsilon_decay: float = Field(
        gt=0, le=1, description="Per-episode multiplier of epsilon, in (0, 1]."
    )
    memory_size: PositiveInt = Field(description="Replay-buffer capacity (transitions).")
    batch_size: PositiveInt = Field(description="Transitions per Q-network update.")

    @model_validator(mode="after")
    def check_every_level_has_config(self) -> "RLControllerConfig":
        """Each level the controller may choose needs its effort settings, or it cannot act."""
        missing = [lvl for lvl in self.complexity_levels if lvl not in self.complexity_configs]
        if missing:
            raise ValueError(
                f"complexity_levels {missing} have no entry in complexity_configs; "
                "add one per level"
            )
        return self

class BiasLossComponents(StrictModel):
    """Weights of the bias corrector's composite loss (from Nov 20 2025)."""

    nll_weight: NonNegFloat = Field(description="Gaussian negative log-likelihood term weight.")
    relative_error_weight: NonNegFloat = Field(description="Relative-error term weight.")
    entropy_weight: NonNegFloat = Field(description="Uncertainty-entropy term weight.")
    quality_weight: NonNegFloat = Field(description="Signal-quality weighting term weight.")

class BiasCorrectorConfig(StrictModel):
    """Network correcting systematic biases of the NPE's parameter estimates."""

    enabled: bool = Field(description="Train and apply the bias corrector.")
    hidden_dims: Seq[PositiveInt] = Field(min_length=1, description="MLP layer widths (units).")
    context_dim: PositiveInt = Field(
        description="Width of the context embedding it reads; must equal neural_posterior.context_dim."
    )
    dropout: DropoutRate = Field(description="Dropout probability, in [0, 1).")
    learning_rate: float = Field(gt=0, description="Learning rate.")
    batch_size: PositiveInt = Field(description="Examples per step.")
    epochs: PositiveInt = Field(description="Maximum training epochs.")
    patience: int = Field(ge=0, description="Early-stopping patience (epochs).")
    loss_components: BiasLossComponents | None = Field(
        default=None, description="Composite loss weights (absent before Nov 20 2025)."
    )
