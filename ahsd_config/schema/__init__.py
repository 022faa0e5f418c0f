"""Pydantic v2 models of the training YAML, and field documentation for `explain` and suggestions.

`TrainingConfig` is the root; one model per section. `all_dotted_keys()` / `field_info(key)` give
each key's description, type, bounds, default and (if any) why `ahsd-train` does not read it.
Mapping keys (`per_param_tail_bounds`, `complexity_configs`) appear with `*` for the free key.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .base import UNUSED_KEY, StrictModel
from .components import ComponentsConfig
from .data import DataConfig, SourceMix, SyntheticDataConfig
from .monitoring import (
    BiasMonitoringConfig,
    HealthConfig,
    MonitoringConfig,
    OutputConfig,
    RLMonitoringConfig,
)
from .neural_posterior import DataAugmentationConfig, FlowConfig, NeuralPosteriorConfig
from .priority_net import PriorityNetConfig
from .root import TrainingConfig
from .subsystems import (
    AdaptiveSubtractorConfig,
    BiasCorrectorConfig,
    BiasLossComponents,
    ComplexityConfig,
    RLControllerConfig,
)

__all__ = [
    "AdaptiveSubtractorConfig", "BiasCorrectorConfig", "BiasLossComponents",
    "BiasMonitoringConfig", "ComplexityConfig", "ComponentsConfig", "DataAugmentationConfig",
    "DataConfig", "FieldDoc", "FlowConfig", "HealthConfig", "MonitoringConfig",
    "NeuralPosteriorConfig", "OutputConfig", "PriorityNetConfig", "REQUIRED",
    "RLControllerConfig", "RLMonitoringConfig", "SourceMix", "StrictModel",
    "SyntheticDataConfig", "TrainingConfig", "UNUSED_KEY", "all_dotted_keys", "field_info",
    "unused_by_trainer",
]

REQUIRED: Any = "<required>"
"""`FieldDoc.default` of a key with no default (the file must give it)."""

_BOUND_NAMES = {
    annotated_types.Gt: "gt", annotated_types.Ge: "ge", annotated_types.Lt: "lt",
    annotated_types.Le: "le", annotated_types.MinLen: "min_length",
    annotated_types.MaxLen: "max_length",
}


@dataclass(frozen=True)
class FieldDoc:
    """Everything `ahsd-config explain KEY` prints about one dotted key."""

    key: str
    description: str
    type: str
    bounds: dict[str, Any] = field(default_factory=dict)
    default: Any = REQUIRED
    unused: str | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def _type_name(annotation: Any) -> str:
    """Readable type text: `int`, `float | None`, `tuple[int, ...]`, `Literal['AdamW', 'Adam']`."""
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in args) + "]"
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        inner = ", ".join("..." if a is Ellipsis else _type_name(a) for a in args)
        return f"{name}[{inner}]"
    return str(annotation).replace("typing.", "")


def _bounds(info: FieldInfo) -> dict[str, Any]:
    """Numeric and length bounds declared on the field (`ge`, `gt`, `le`, `lt`, lengths).

    Bounds of an optional value (`Annotated[int, Field(gt=0)] | None`) count as the field's own.
    """
    found: dict[str, Any] = {}
    metadata = list(info.metadata)
    if typing.get_origin(info.annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(info.annotation):
            if typing.get_origin(arg) is typing.Annotated:
                for meta in arg.__metadata__:
                    metadata.extend(getattr(meta, "metadata", [meta]))
    for meta in metadata:
        name = _BOUND_NAMES.get(type(meta))
        if name is not None:
            found[name] = getattr(meta, name)
    return found


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return REQUIRED
    else:
        value = info.default
    return value.model_dump() if isinstance(value, BaseModel) else value


def _unused_reason(info: FieldInfo) -> str | None:
    extra = info.json_schema_extra
    return extra.get(UNUSED_KEY) if isinstance(extra, dict) else None  # type: ignore[return-value]


def _models_in(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
    """Sub-models a field holds: ('', Model) directly, or ('*', Model) as a mapping's values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [("", annotation)]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict:
        return [("*", model) for _, model in _models_in(args[1])]
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [found for arg in args for found in _models_in(arg)]
    return []


def _walk(model: type[BaseModel], prefix: str, inherited: str | None) -> dict[str, FieldDoc]:
    docs: dict[str, FieldDoc] = {}
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        reason = _unused_reason(info) or inherited
        docs[key] = FieldDoc(
            key=key,
            description=info.description or "",
            type=_type_name(info.annotation),
            bounds=_bounds(info),
            default=_default(info),
            unused=reason,
        )
        for star, sub in _models_in(info.annotation):
            if star:  # one entry for "any key of this mapping", documented by the value's model
                docs[f"{key}.*"] = FieldDoc(
                    key=f"{key}.*", description=(sub.__doc__ or "").strip(),
                    type=sub.__name__, unused=reason,
                )
            child_prefix = f"{key}.{star}." if star else f"{key}."
            docs.update(_walk(sub, child_prefix, reason))
    return docs


@lru_cache(maxsize=1)
def _cached_keys() -> dict[str, FieldDoc]:
    return _walk(TrainingConfig, "", None)


def all_dotted_keys() -> dict[str, FieldDoc]:
    """Every dotted key of the training YAML, in file order, mapped to its documentation."""
    return dict(_cached_keys())


def field_info(dotted_key: str) -> FieldDoc:
    """Documentation of one dotted key (`priority_net.batch_size`); KeyError when unknown.

    Concrete mapping keys resolve to their `*` entry: `rl_controller.complexity_configs.low.
    flow_layers` -> `rl_controller.complexity_configs.*.flow_layers`.
    """
    keys = _cached_keys()
    if dotted_key in keys:
        return keys[dotted_key]
    parts = dotted_key.split(".")
    for i in range(len(parts)):
        candidate = ".".join(parts[:i] + ["*"] + parts[i + 1:])
        if candidate in keys:
            return keys[candidate]
    raise KeyError(dotted_key)


def unused_by_trainer() -> dict[str, str]:
    """Keys (or whole sections) marked as not read by `ahsd-train`, mapped to the reason.

    Only the marked key itself is listed; the keys below a marked section inherit its reason in
    `all_dotted_keys()`.
    """
    marked: dict[str, str] = {}
    for model_prefix, model in _marked_models():
        for name, info in model.model_fields.items():
            reason = _unused_reason(info)
            if reason is not None:
                marked[f"{model_prefix}{name}"] = reason
    return marked


def _marked_models() -> list[tuple[str, type[BaseModel]]]:
    """The models whose fields may carry the unused mark, with their dotted prefixes."""
    return [
        ("", TrainingConfig),
        ("priority_net.", PriorityNetConfig),
        ("data.", DataConfig),
        ("monitoring.", MonitoringConfig),
    ]
