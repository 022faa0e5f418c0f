"""`priority_net`: PriorityNet's architecture, optimiser, schedule and composite loss.

This is the section `ahsd-train` reads. Keys it does not read carry `x-ahsd-unused` with the reason,
so the validator can say so (info) instead of letting a researcher tune a knob that does nothing.
Bounds here are validity only (impossible values); "legal but probably wrong" is for the rules.
"""

from __future__ import annotations

from pydantic import Field

from .base import (
    DropoutRate,
    NonNegFloat,
    OptimizerName,
    PositiveInt,
    SchedulerName,
    SkipInput,
    Seq,
    StrictModel,
    unused,
)


class PriorityNetConfig(StrictModel):
    """PriorityNet: ranks overlapping signals by the order the decomposition should extract them."""

    # --- architecture -------------------------------------------------------------------------
    hidden_dims: Seq[PositiveInt] = Field(
        min_length=1,
        description="Widths of the priority-head MLP layers, input side first (units). "
        "Raised from [512, 384, 256, 128] to [640, 512, 384, 256] in Nov 2025.",
    )
    dropout: DropoutRate = Field(
        description="Dropout probability after each priority-head layer, in [0, 1).",
    )
    importance_hidden_dim: PositiveInt | None = Field(
        default=None,
        description="Width (units) of the cross-signal pair-importance MLP that weighs how much "
        "each overlapping pair matters. Wins over `overlap_importance_hidden` when both are set; "
        "added Nov 15 2025 (absent = use `overlap_importance_hidden`). Must match a checkpoint.",
    )

    # --- model flags --------------------------------------------------------------------------
    use_strain: bool = Field(
        description="Enable the temporal strain encoder (Conv1d+BatchNorm blocks, then "
        "`use_transformer_encoder` picks Transformer or BiLSTM). When on, the model contains "
        "BatchNorm and the per-replica batch size matters.",
    )
    use_edge_conditioning: bool = Field(
        description="Add a learned embedding of the scenario's edge-case type to the signal features.",
    )
    n_edge_types: PositiveInt = Field(
        description="Number of edge-case types the edge embedding has rows for (count).",
    )
    use_transformer_encoder: bool = Field(
        description="Sequence model after the strain encoder's convolutions: a one-layer "
        "Transformer (true) or a BiLSTM (false). The user's pipeline used a Whisper+adapter "
        "here and turned it off on Nov 25 2025 (too slow on CPU).",
    )

    # --- optimizer ----------------------------------------------------------------------------
    optimizer: OptimizerName = Field(description="Optimizer: AdamW (decoupled decay) or Adam.")
    learning_rate: float = Field(
        gt=0,
        description="Peak learning rate after warm-up (per step, dimensionless). "
        "History: 1e-4, 8e-5, then 3e-5; the seed note's next fix was 8e-5 -> 4e-5.",
    )
    weight_decay: NonNegFloat = Field(
        description="Weight-decay coefficient (AdamW: decoupled; Adam: L2 added to the gradient).",
    )

    # --- training schedule --------------------------------------------------------------------
    batch_size: PositiveInt = Field(
        description="Scenarios per optimiser step, summed over all data-parallel replicas "
        "(count). Nov 15 2025 fix #1: 6 -> 24 because BatchNorm had unreliable statistics at 6 "
        "(the committed history shows 48 -> 24); 32 from Nov 25 2025, 64 from Jul 2026 (MPS).",
    )
    epochs: PositiveInt = Field(description="Maximum number of training epochs.")
    patience: int = Field(
        ge=0,
        description="Early stopping: epochs without validation improvement before stopping.",
    )

    # --- warm-up ------------------------------------------------------------------------------
    warmup_epochs: int = Field(
        ge=0,
        description="Epochs of linear LR warm-up from `warmup_start_factor` x lr to lr (0 = none).",
    )
    warmup_start_factor: float = Field(
        gt=0,
        le=1,
        description="Fraction of `learning_rate` the warm-up starts from, in (0, 1]; PyTorch's "
        "LinearLR rejects 0 and values above 1.",
    )

    # --- LR scheduler -------------------------------------------------------------------------
    scheduler: SchedulerName = Field(description="LR scheduler after warm-up: ReduceLROnPlateau.")
    scheduler_patience: int = Field(
        ge=0,
        description="Epochs without validation improvement before the LR is multiplied by "
        "`scheduler_factor`.",
    )
    scheduler_factor: float = Field(
        gt=0,
        lt=1,
        description="Multiplier applied to the LR on a plateau, in (0, 1).",
    )
    scheduler_threshold: NonNegFloat = Field(
        default=1.0e-4,
        description="Relative improvement below which an epoch counts as a plateau "
        "(ReduceLROnPlateau 'rel' mode). Added Nov 12 2025 as 5e-3; absent = PyTorch's 1e-4.",
    )
    min_lr: NonNegFloat = Field(description="Floor the scheduler never lowers the LR below.")

    # --- primary loss weights -----------------------------------------------------------------
    ranking_weight: NonNegFloat = Field(
        description="Weight of the pairwise margin ranking loss (correct extraction order). "
        "0.50 -> 0.70 on Nov 15 2025; 0.80-0.85 later.",
    )
    mse_weight: NonNegFloat = Field(
        description="Weight of the MSE on absolute priority values. Lowered Nov 19 2025 because it "
        "pulled predictions into a compressed 'safe' range.",
    )
    uncertainty_weight: NonNegFloat = Field(
        description="Weight of the uncertainty (confidence-error correlation) loss. Nov 13 2025 "
        "raised it 3.5x to 0.35, part of the grad-norm 28.9 explosion; Nov 15 fix #5 set 0.10.",
    )
    use_snr_weighting: bool = Field(
        description="Weight each scenario's loss by its signals' SNR, so loud, well-measured "
        "signals count more.",
    )
    loss_scale_factor: float = Field(
        gt=0,
        description="Multiplier applied to the total loss before backward (dimensionless); "
        "introduced by the Nov 12 2025 fix. The clip acts on the scaled gradient, i.e. at "
        "gradient_clip_norm / loss_scale_factor on the loss's own gradient (AHSD108); health checks "
        "divide gradient norms by it. 1.0 since v261129.",
    )

    # --- uncertainty calibration (Nov 13 2025) ------------------------------------------------
    uncertainty_lower_bound: NonNegFloat = Field(
        default=0.01,
        description="Predicted uncertainty below this is penalised (prevents collapse to 0). "
        "Same units as the priority (0..1). Added Nov 13 2025.",
    )
    uncertainty_upper_bound: float = Field(
        default=0.5,
        gt=0,
        description="Predicted uncertainty above this is penalised (prevents explosion). "
        "Added Nov 13 2025.",
    )
    uncertainty_bounds_weight: NonNegFloat = Field(
        default=0.0,
        description="Weight of the penalty for leaving [lower, upper] uncertainty bounds; "
        "absent = 0 (no penalty, as before Nov 13 2025).",
    )

    # --- output calibration (Nov 13-19 2025) --------------------------------------------------
    output_bias_init: float = Field(
        default=0.5,
        description="Initial bias of the output unit (priority units, 0..1): where predictions "
        "start before training. 0.5 on Nov 13 2025, 0.45 later.",
    )
    output_weight_std: NonNegFloat = Field(
        default=0.05,
        description="Std of the output layer's initial weights; 0.10 ('2x standard') since "
        "Nov 2025 for stronger early gradients.",
    )
    calib_mean_weight: NonNegFloat = Field(
        default=0.0,
        description="Penalty weight aligning the batch mean of predictions with the targets' "
        "mean; absent = 0 (off).",
    )
    calib_max_weight: NonNegFloat = Field(
        default=0.0,
        description="Penalty weight pushing the batch max prediction toward the targets' max. "
        "Nov 15 2025 fix #4 (seed note): 2.50 -> 1.00, it dominated the loss; absent = 0 (off).",
    )
    calib_range_weight: NonNegFloat = Field(
        default=0.0,
        description="Penalty weight expanding the predicted range toward the targets' range. "
        "Nov 15 2025 fix #4 (seed note): 2.00 -> 0.75; absent = 0 (off).",
    )
    affine_gain_min: float = Field(
        default=0.7,
        gt=0,
        description="Lower clamp of the learned output affine gain (dimensionless); a gain <= 0 "
        "would flatten or invert the ranking. 0.7 -> 1.2 on Nov 15 2025.",
    )
    affine_gain_max: float = Field(
        default=1.5,
        gt=0,
        description="Upper clamp of the learned output affine gain. 1.5 -> 2.5 on Nov 15 2025 to "
        "allow range expansion.",
    )
    affine_bias_min: float = Field(
        default=-0.1,
        description="Lower clamp of the learned output affine bias (priority units).",
    )
    affine_bias_max: float = Field(
        default=0.1,
        description="Upper clamp of the learned output affine bias (priority units).",
    )
    min_variance_penalty_weight: NonNegFloat = Field(
        default=2.0,
        description="Weight of the penalty keeping the prediction std above 0.5 x the target std "
        "(prevents collapse to a constant). The user's code hard-coded it: 10.0, then 2.0 after "
        "Nov 15 2025 fix #3 (10x dominated the loss). A project key; default 2.0.",
    )
    normalize_loss_by_components: bool = Field(
        default=False,
        description="Divide the total loss by the number of active loss components (the seed "
        "note's next fix #2, 'divide total_loss by 6'). A project key; default off.",
    )

    # --- gradient management ------------------------------------------------------------------
    gradient_clip_norm: float = Field(
        gt=0,
        description="Max global L2 norm of the gradient; larger norms are scaled down to it. "
        "Nov 15 2025 fix #2: 2.0 -> 5.0 (2.0 suppressed legitimate gradients of a six-term loss).",
    )
    gradient_log_threshold: NonNegFloat = Field(
        description="The user's pipeline logged the gradient norm only above this value.",
        json_schema_extra=unused("ahsd-train logs the gradient norm every step"),
    )

    # --- regularisation -----------------------------------------------------------------------
    label_smoothing: float = Field(
        ge=0,
        lt=1,
        description="Shrink ranking targets toward 0.5 by this fraction (0 = off), in [0, 1).",
    )

    # --- attention / fusion -------------------------------------------------------------------
    use_modal_fusion: bool = Field(
        description="User pipeline switch for multi-modal attention fusion.",
        json_schema_extra=unused(
            "ahsd-train always fuses signal features with attention over the signals; "
            "there is no non-attention path to switch to"
        ),
    )
    attention_num_heads: PositiveInt = Field(
        description="Heads of the multi-head attention over signals; the fusion width must be "
        "divisible by it (a rule checks).",
    )
    attention_dropout: DropoutRate = Field(description="Dropout on attention weights, in [0, 1).")

    # --- overlap handling ---------------------------------------------------------------------
    overlap_use_attention: bool = Field(
        description="Weight pairwise overlap features by learned pair importance (true) or "
        "average them uniformly (false).",
    )
    use_pair_features: bool = Field(
        default=True,
        description="Feed the overlap analyzer's pairwise features (time, sky, chirp-mass and band "
        "overlap with each partner) into the fusion; false replaces them with zeros (the benchmark's "
        "'without pair features' ablation).",
    )
    snr_skip_input: SkipInput = Field(
        default="snr_estimate",
        description="The SNR the priority head starts from (a skip connection; the network learns "
        "corrections to it): `snr_estimate` (sort by the search's SNR) or `effective_snr` (the SNR "
        "estimate reduced by the louder overlapping partners' extraction residual, computed from the "
        "estimated merger times and chirp masses).",
    )
    overlap_importance_hidden: PositiveInt = Field(
        description="Width (units) of the pair-importance MLP in files before Nov 15 2025. "
        "`importance_hidden_dim` wins when both are set; this key is read only when it is absent.",
    )

    # --- data parallelism (project keys) ------------------------------------------------------
    world_size: PositiveInt = Field(
        default=1,
        description="Data-parallel replicas the batch is split across; each replica's BatchNorm "
        "sees batch_size / world_size scenarios unless `sync_batchnorm` is on.",
    )
    sync_batchnorm: bool = Field(
        default=False,
        description="Synchronise BatchNorm statistics across replicas (SyncBatchNorm), so "
        "BatchNorm sees the whole batch.",
    )

    def per_replica_batch(self, world_size: int | None = None) -> int:
        """THE per-replica batch: scenarios each data-parallel replica trains on per step,
        `batch_size // world_size` (at least 1). `world_size`: the launch's replicas; default the
        config's own `world_size` (what the validator assumes). The AHSD101 rule and
        `ahsd_train.run.distributed` both use this definition."""
        return max(1, self.batch_size // (world_size or self.world_size))

    def batchnorm_batch(self) -> int:
        """Scenarios one BatchNorm layer normalises over: the whole batch with SyncBatchNorm, else
        one replica's."""
        return self.batch_size if self.sync_batchnorm else self.per_replica_batch()

    @property
    def pair_importance_width(self) -> int:
        """The pair-importance MLP width the engine builds: `importance_hidden_dim` if set."""
        if self.importance_hidden_dim is not None:
            return self.importance_hidden_dim
        return self.overlap_importance_hidden
