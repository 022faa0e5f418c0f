"""`neural_posterior`: the user's normalizing-flow posterior estimator (NPE).

Another subsystem's keys: `ahsd-train` reads none of them (the whole section is marked unused in
`root.py`). The key set moved a lot: loss-term weights came and went between Nov 2025 and Jul 2026,
so everything not present in every file since 2025-11-11 is optional (None = absent).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import (
    DropoutRate,
    NonNegFloat,
    OptimizerName,
    PositiveInt,
    Probability,
    SchedulerName,
    Seq,
    StrictModel,
)

FlowType = Literal["realnvp", "maf", "flowmatching", "nsf"]
ParamIndex = Annotated[int, Field(ge=0)]
TailBound = Annotated[float, Field(gt=0)]
# YAML gives integer keys; JSON (and editors) see them as digit strings, hence `propertyNames`.
TailBoundMap = Annotated[
    dict[ParamIndex, TailBound],
    Field(json_schema_extra={"propertyNames": {"pattern": "^[0-9]+$"}}),
]


def _weight(what: str, history: str = "") -> object:
    """An optional, non-negative loss-term weight (None = the term is absent from the file)."""
    text = f"Weight of the {what} term in the NPE loss (dimensionless, >= 0; absent = not used)."
    return Field(default=None, ge=0, description=f"{text} {history}".strip())


class FlowConfig(StrictModel):
    """Normalizing-flow hyper-parameters; which keys apply depends on `flow_type`."""

    type: Literal["realnvp", "maf"] | None = Field(
        default=None,
        description="Flow family in files before Nov 13 2025 (later: `neural_posterior.flow_type`).",
    )
    num_layers: PositiveInt | None = Field(
        default=None, description="Number of flow transforms (count); all flow types."
    )
    hidden_features: PositiveInt = Field(
        description="Hidden width (units) of each transform's conditioner network."
    )
    num_blocks_per_layer: PositiveInt | None = Field(
        default=None, description="Residual blocks per conditioner (count); realnvp/nsf, 2025 files."
    )
    num_bins: PositiveInt | None = Field(
        default=None,
        description="Spline bins per dimension (nsf). 12 -> 24 in Jul 2026 to keep per-bin "
        "resolution when the distance tail bound doubled.",
    )
    tail_bound: float | None = Field(
        default=None,
        gt=0,
        description="Half-width B of the spline interval [-B, B] in normalised parameter units "
        "(nsf); outside it the transform is the identity.",
    )
    per_param_tail_bounds: TailBoundMap | None = Field(
        default=None,
        description="Per-parameter spline half-width overriding `tail_bound`, keyed by the "
        "flow's integer parameter index (values > 0). The user's comments map 0..10 to mass_1, "
        "mass_2, luminosity_distance, ra, dec, theta_jn, psi, phase, geocent_time, a1, a2 (the "
        "flow's internal order, not `param_names` order). Added Jan 20 2026.",
    )
    solver_steps: PositiveInt | None = Field(
        default=None, description="ODE solver steps at sampling time (flowmatching only)."
    )
    dropout: DropoutRate = Field(description="Dropout inside the conditioner networks, in [0, 1).")
    temperature_scale: float | None = Field(
        default=None,
        gt=0,
        description="Std multiplier of the Gaussian base distribution; 1.5 -> 1.0 on Jan 7 2026 "
        "because a wider base made posteriors oscillate.",
    )


class DataAugmentationConfig(StrictModel):
    """NPE training-time augmentation of strain and parameters."""

    enabled: bool = Field(description="Master switch; off since Jan 7 2026 (multi-noise data).")
    noise_scaling: Seq[float] = Field(
        min_length=2, max_length=2, description="[low, high] multiplier range for noise amplitude."
    )
    time_shifts: Seq[float] = Field(
        min_length=2, max_length=2, description="[low, high] random time shift range (seconds)."
    )
    apply_probability: Probability = Field(
        description="Probability an example is augmented, in [0, 1]."
    )
    boost_low_snr: bool | None = Field(default=None, description="Oversample low-SNR events.")
    boost_low_snr_factor: float | None = Field(
        default=None, ge=1, description="Oversampling factor for low-SNR events (>= 1)."
    )
    boost_high_mass_ratio: bool | None = Field(
        default=None, description="Oversample high-mass-ratio events."
    )
    boost_high_mass_ratio_factor: float | None = Field(
        default=None, ge=1, description="Oversampling factor for high-mass-ratio events (>= 1)."
    )
    snr_decorrelation_enabled: bool | None = Field(
        default=None, description="Weaken the SNR-distance correlation in training data."
    )
    snr_decorrelation_strength: float | None = Field(
        default=None, ge=0, le=1, description="Strength of SNR-distance decorrelation, in [0, 1]."
    )
    snr_min_threshold: float | None = Field(
        default=None, ge=0, description="Network SNR below which an event counts as low-SNR."
    )
    mass_ratio_threshold: float | None = Field(
        default=None, ge=1, description="Mass ratio m1/m2 above which an event counts as high (>= 1)."
    )


class NeuralPosteriorConfig(StrictModel):
    """The flow-based parameter estimator that runs after PriorityNet picks the next signal."""

    param_names: Seq[str] = Field(
        min_length=1,
        description="Source parameters the flow infers, in order (bilby names). 9 in 2025, "
        "11 (with spins a1, a2) from Nov 20 2025.",
    )
    context_dim: PositiveInt = Field(description="Width (units) of the strain context embedding.")
    n_flow_layers: PositiveInt | None = Field(
        default=None, description="Flow depth in files before Nov 13 2025 (later: flow_config)."
    )
    max_iterations: PositiveInt = Field(
        description="Subtract-and-re-estimate iterations per event (count)."
    )
    aux_context_loss_weight: NonNegFloat | None = _weight(
        "auxiliary per-parameter context", "Raised from 0.05 to 0.3 in Jul 2026."
    )
    flow_type: FlowType | None = Field(
        default=None,
        description="Flow family: realnvp, maf, flowmatching (OT-CFM) or nsf (neural spline). "
        "flowmatching from Nov 13 2025, nsf from Dec 2025.",
    )
    flow_config: FlowConfig = Field(description="Normalizing-flow hyper-parameters.")
    event_type: Literal["BBH", "BNS", "NSBH"] | None = Field(
        default=None, description="Source class the physics-informed priors are drawn for."
    )
    enable_event_specific_priors: bool | None = Field(
        default=None, description="Use the physics-informed prior of `event_type`."
    )
    snr_conditioning: bool | None = Field(
        default=None, description="Append SNR features to the flow context (Jan-Feb 2026 files)."
    )
    snr_features: Seq[str] | None = Field(
        default=None, description="Which SNR features are appended (e.g. 'network')."
    )
    learning_rate: float = Field(gt=0, description="NPE peak learning rate.")
    batch_size: PositiveInt = Field(description="NPE events per optimiser step.")
    epochs: PositiveInt = Field(description="NPE maximum training epochs.")
    patience: int = Field(ge=0, description="NPE early-stopping patience (epochs).")
    weight_decay: NonNegFloat = Field(description="NPE weight-decay coefficient.")
    gradient_clip: float = Field(
        gt=0, description="NPE max global gradient L2 norm; 20.0 -> 5.0 on Jan 7 2026."
    )
    optimizer: OptimizerName = Field(description="NPE optimizer.")
    warmup_epochs: int | None = Field(default=None, ge=0, description="NPE warm-up epochs.")
    warmup_start_factor: float | None = Field(
        default=None, gt=0, le=1, description="Fraction of the LR the NPE warm-up starts from."
    )
    scheduler: SchedulerName = Field(description="NPE LR scheduler.")
    scheduler_patience: int = Field(ge=0, description="NPE plateau patience (epochs).")
    scheduler_factor: float = Field(gt=0, lt=1, description="NPE LR multiplier on a plateau.")
    min_lr: NonNegFloat = Field(description="NPE LR floor.")
    flow_loss_weight: NonNegFloat | None = _weight("flow negative log-likelihood (primary)")
    physics_loss_weight: NonNegFloat | None = _weight("physics-consistency")
    bounds_penalty_weight: NonNegFloat | None = _weight("soft parameter-bounds penalty")
    jacobian_reg_weight: NonNegFloat | None = _weight("Jacobian regularisation")
    sample_loss_weight: NonNegFloat | None = _weight(
        "sample-based", "2.0 -> 0.3 on Nov 13 2025 to stop it dominating the NLL."
    )
    context_variance_weight: NonNegFloat | None = _weight("context-variance (anti-collapse)")
    context_std_target: NonNegFloat | None = Field(
        default=None, ge=0, description="Target per-dimension std of the context embedding."
    )
    context_noise_scale: NonNegFloat | None = Field(
        default=None, ge=0, description="Std of noise added to the context during training."
    )
    context_collapse_threshold: NonNegFloat | None = Field(
        default=None, ge=0, description="Context std below which collapse is reported."
    )
    pit_loss_weight: NonNegFloat | None = _weight("PIT calibration")
    endpoint_loss_weight: NonNegFloat | None = _weight("prior-endpoint")
    kl_divergence_weight: NonNegFloat | None = _weight("KL divergence")
    auxiliary_distance_loss_weight: NonNegFloat | None = _weight("auxiliary distance regression")
    distance_endpoint_loss_weight: NonNegFloat | None = _weight("distance endpoint")
    distance_prior_weight: NonNegFloat | None = _weight("distance prior")
    direct_flow_distance_weight: NonNegFloat | None = _weight("direct flow distance")
    data_augmentation: DataAugmentationConfig = Field(description="NPE data augmentation.")
