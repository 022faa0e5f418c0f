"""Shared base for every section model, and the small type aliases the sections reuse.

Strict on purpose: a YAML typo such as `batch_size: "24"`, `use_strain: yes` read as a string, or
`epochs: 10.0` is an error here rather than a silent coercion. Ints are still accepted where a float
belongs (`gradient_clip_norm: 5` is fine), which is pydantic's strict-mode rule as well.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

UNUSED_KEY = "x-ahsd-unused"
"""JSON-schema extra naming why `ahsd-train` does not read a field or a whole section."""


class StrictModel(BaseModel):
    """Base of every config section: unknown keys forbidden, immutable, no coercion, finite floats."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        validate_default=True,
        # Build validators on first use, and only the root's: the sections are inlined into it.
        # Building all twenty section validators at import was half of `ahsd-config validate`.
        defer_build=True,
    )


def unused(reason: str) -> dict[str, str]:
    """The `json_schema_extra` that marks a key as not read by `ahsd-train`, with the reason."""
    return {UNUSED_KEY: reason}


# A YAML sequence, stored as an immutable tuple (the models are frozen, so their lists are too).
# `strict=False` only lets a list stand in for a tuple; the items keep their strict types.
Seq = Annotated[tuple[T, ...], Field(strict=False)]

PositiveInt = Annotated[int, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
DropoutRate = Annotated[float, Field(ge=0, lt=1)]

OptimizerName = Literal["AdamW", "Adam"]
"""The optimizers ahsd-train implements; anything else (SGD, ...) is a validation error."""

SchedulerName = Literal["ReduceLROnPlateau"]
"""The only learning-rate scheduler the user's pipeline and ahsd-train implement."""

SkipInput = Literal["snr_estimate", "effective_snr"]
"""What PriorityNet's head starts from (`priority_net.snr_skip_input`)."""

ComplexityLevel = Literal["low", "medium", "high"]
