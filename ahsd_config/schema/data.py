"""`data`: the dataset section, plus `data.synthetic`, the source `ahsd-train` draws scenarios from.

The user's keys (sample rate, band, splits) describe their real-strain dataset generator;
`data.synthetic` is the project's embedded generator of overlapping-signal scenarios, so the
trainer runs on a fresh machine without the user's data. Its defaults live here.
"""

from __future__ import annotations

import math

from typing import Literal

from pydantic import Field, model_validator

from .base import NonNegFloat, PositiveInt, Probability, Seq, StrictModel, unused

# The estimate columns the model sees (ahsd_train.normalization.FEATURE_NAMES; torch-free copy).
EstimateName = Literal["mass_1", "mass_2", "luminosity_distance", "ra", "dec", "theta_jn", "psi",
                       "phase", "geocent_time", "chi_1", "chi_2", "snr_estimate"]


class SourceMix(StrictModel):
    """Fractions of binary black hole, binary neutron star and NS-BH sources; they sum to 1."""

    BBH: NonNegFloat = Field(default=0.7, description="Fraction of binary black hole signals.")
    BNS: NonNegFloat = Field(default=0.2, description="Fraction of binary neutron star signals.")
    NSBH: NonNegFloat = Field(default=0.1, description="Fraction of neutron star-black hole signals.")

    @model_validator(mode="after")
    def check_fractions_sum_to_one(self) -> "SourceMix":
        """A mix is a probability distribution: the fractions must add up to 1 (+/- 1e-6)."""
        total = self.BBH + self.BNS + self.NSBH
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"source fractions sum to {total:g}, not 1; rescale them")
        return self


class SyntheticDataConfig(StrictModel):
    """The embedded generator of overlapping-signal scenarios that `ahsd-train` trains on."""

    n_scenarios: int = Field(
        default=4096, ge=8, description="Scenarios generated per epoch (count, >= 8)."
    )
    min_signals: int = Field(default=1, ge=1, description="Fewest signals in one scenario.")
    max_signals: int = Field(
        default=8, ge=1, le=64, description="Most signals in one scenario (padding width, <= 64)."
    )
    create_overlaps: bool = Field(
        default=True,
        description="Place signals so their time-frequency tracks overlap (the case PriorityNet "
        "exists for); off = well-separated signals only.",
    )
    overlap_fraction: Probability = Field(
        default=0.8, description="Fraction of multi-signal scenarios built with overlaps, in [0, 1]."
    )
    source_mix: SourceMix = Field(
        default_factory=SourceMix, description="Source-class fractions of generated signals."
    )
    estimate_noise: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Scale of the parameter-estimation errors of the observation model "
        "(ahsd_train/engine/observation.py: chirp mass ~ Mc^(5/3)/SNR, poorly measured mass ratio and spins, "
        "sky from timing, distance inferred from the SNR), in [0, 1]: 1 = as documented there, "
        "0 = exact parameters. The SNR estimate's matched-filter noise is never scaled.",
    )
    fresh_each_epoch: bool = Field(
        default=True,
        description="Draw new training scenarios every epoch (epoch e > 0 from seed random_seed + "
        "7919 e; a resume sees the same ones); the first epoch's and the validation split come from "
        "random_seed. Off = the same n_scenarios every epoch.",
    )
    test_scenarios: PositiveInt = Field(
        default=10000,
        description="Scenarios of the fixed test set (count). Drawn from its own seed, so it is the "
        "same whatever random_seed, n_scenarios, the splits or the training schedule; `--quick` caps it.",
    )
    hidden_estimates: Seq[EstimateName] = Field(
        default=(),
        description="Estimate columns replaced by their normalisation centre in every split (the "
        "benchmark's 'without each estimate' ablation). Hiding snr_estimate also hides the SNR "
        "embedding's input and the edge types (they are built from it).",
    )
    strain_detectors: PositiveInt = Field(
        default=2, description="Detectors in the synthetic strain (channels of the strain encoder)."
    )
    strain_samples: PositiveInt = Field(
        default=256, description="Time samples per detector in the strain encoder's input."
    )
    segment_seconds: float = Field(
        default=4.0, gt=0, description="Duration (seconds) the strain samples span."
    )
    seed_offset: int = Field(
        default=0,
        ge=0,
        description="Added to random_seed for data generation, to draw new data with the same model init.",
    )

    @model_validator(mode="after")
    def check_min_signals_not_above_max(self) -> "SyntheticDataConfig":
        """A scenario cannot hold fewer than min and more than max signals at the same time."""
        if self.min_signals > self.max_signals:
            raise ValueError(
                f"min_signals = {self.min_signals} is above max_signals = {self.max_signals}"
            )
        return self


_NOT_SYNTHETIC = (
    "describes the user's real-strain dataset; ahsd-train's synthetic strain spans "
    "data.synthetic.strain_samples at sample_rate and its chirps end at the ISCO frequency"
)


class DataConfig(StrictModel):
    """Dataset: the user's strain settings, splits, and the embedded synthetic source."""

    sample_rate: PositiveInt = Field(
        description="Strain sample rate (Hz); also the synthetic strain's sample rate."
    )
    segment_duration: float = Field(
        gt=0,
        description="Strain segment length of the user's dataset (seconds).",
        json_schema_extra=unused(_NOT_SYNTHETIC),
    )
    f_low: float = Field(
        gt=0,
        description="Low-frequency cutoff (Hz): below it the detector noise is a wall and no "
        "signal is seen (SNR integrals and the synthetic strain start here).",
    )
    f_high: float = Field(
        gt=0,
        description="High-frequency cutoff of the user's dataset (Hz).",
        json_schema_extra=unused(_NOT_SYNTHETIC),
    )
    validation_split: float = Field(
        ge=0, lt=1, description="Fraction of scenarios held out for validation, in [0, 1)."
    )
    test_split: float = Field(
        ge=0, lt=1, description="Fraction of scenarios held out for the final test, in [0, 1). "
        "With synthetic data ahsd-train tests on data.synthetic.test_scenarios drawn from their own "
        "seed instead; the fraction applies to `--data DIR` shards.",
    )
    signal_distribution: SourceMix | None = Field(
        default=None,
        description="Source-class fractions in files of Nov 11-12 2025 only.",
        json_schema_extra=unused("superseded by data.synthetic.source_mix"),
    )
    synthetic: SyntheticDataConfig = Field(
        default_factory=SyntheticDataConfig,
        description="The embedded synthetic scenario generator (a project section; defaults apply).",
    )
