"""The typed records of a run: one `StepRecord` per optimizer step, one `EpochRecord` per epoch.

The loop builds them, `runlog.MetricsLog` writes them to `metrics.jsonl` (one JSON object a line,
`{"kind": "step" | "epoch", ...}`, keys in field order: the format PRODUCT.md documents), and every
reader — the health checklist, the report, doctor, compare, the plots and the CLI's progress lines —
gets them back as these types from `runlog.read_metrics`, never as dicts read by key.

Reading is forgiving, as a crashed or hand-edited run directory needs: a missing field takes its
default (NaN for a measurement), JSON null (how NaN is written) reads back as NaN, and a line that
is not a record of either kind is skipped (`from_json` returns None).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Mapping, Union

NAN = float("nan")


@dataclass(frozen=True)
class StepRecord:
    """One optimizer step: what the loss was made of, the gradient, and what health measured."""

    kind: ClassVar[str] = "step"
    epoch: int = 0
    batch: int = 0  # index of the batch within its epoch
    step: int = 0  # global optimizer step, from 1
    loss: float = NAN  # total (weighted, scaled) loss
    components: dict[str, float] = field(default_factory=dict)  # unweighted terms
    weighted: dict[str, float] = field(default_factory=dict)  # terms times their weights
    grad_norm: float = NAN  # before clipping
    clipped: bool = False
    lr: float = NAN
    scenarios_per_s: float = NAN  # over all replicas
    nonfinite: str | None = None  # which value was NaN/Inf (the step was not taken)
    spike: bool = False
    bn_eval: list[str] = field(default_factory=list)  # BatchNorm layers found in eval mode
    skipped: bool = False

    @property
    def finite(self) -> bool:
        return self.nonfinite is None

    def to_json(self) -> dict[str, Any]:
        return _to_json(self)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch's end: its training means, the validation metrics and the learning rate after it."""

    kind: ClassVar[str] = "epoch"
    epoch: int = 0
    step: int = 0  # global step at the epoch's end
    train_loss: float | None = None  # None: no finite step in the epoch
    grad_norm_mean: float | None = None
    clipped_fraction: float | None = None
    val_loss: float = NAN
    val: dict[str, Any] = field(default_factory=dict)  # validation metrics (engine.metrics) and components
    lr: float = NAN
    best: bool = False  # a new best validation loss
    scenarios_per_s: float | None = None
    seconds: float = NAN

    def to_json(self) -> dict[str, Any]:
        return _to_json(self)


Record = Union[StepRecord, EpochRecord]
KINDS: dict[str, type] = {"step": StepRecord, "epoch": EpochRecord}


def _to_json(record: Record) -> dict[str, Any]:
    """`{"kind": ..., field: value, ...}` in field order (what metrics.jsonl holds, byte for byte)."""
    return {"kind": record.kind, **{f.name: getattr(record, f.name) for f in fields(record)}}


def from_json(raw: Any) -> Record | None:
    """A record read back from metrics.jsonl, or None when `raw` is not one (skipped by readers)."""
    if not isinstance(raw, Mapping) or raw.get("kind") not in KINDS:
        return None
    cls = KINDS[raw["kind"]]
    values = {}
    try:
        for f in fields(cls):
            if f.name in raw:
                values[f.name] = _coerce(raw[f.name], _declared(cls, f.name))
    except (TypeError, ValueError):
        return None
    return cls(**values)


def steps_of(records: list[Record]) -> list[StepRecord]:
    return [r for r in records if isinstance(r, StepRecord)]


def epochs_of(records: list[Record]) -> list[EpochRecord]:
    return [r for r in records if isinstance(r, EpochRecord)]


def finite_steps(records: list[Record]) -> list[StepRecord]:
    return [r for r in steps_of(records) if r.finite]


# --- reading back ---------------------------------------------------------------------------------


def _declared(cls: type, name: str) -> str:
    """The declared type of a field as written in its annotation (`from __future__` keeps it a string)."""
    return str(cls.__dataclass_fields__[name].type)


def _coerce(value: Any, declared: str) -> Any:
    """A JSON value as the field's type; TypeError/ValueError when it cannot be one."""
    optional = declared.endswith("| None")
    if value is None:
        if optional:
            return None
        if declared.startswith("float"):
            return NAN  # JSON null is how a NaN measurement was written
        raise TypeError("null")
    base = declared.split("|")[0].strip()
    if base == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
            raise TypeError(f"not an integer: {value!r}")
        return int(value)
    if base == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"not a number: {value!r}")
        return float(value)
    if base == "bool":
        return bool(value)
    if base == "str":
        return str(value)
    if base.startswith("dict[str, float]"):
        if not isinstance(value, Mapping):
            raise TypeError("not a mapping")
        return {str(k): NAN if v is None else float(v) for k, v in value.items()}
    if base.startswith("dict"):
        if not isinstance(value, Mapping):
            raise TypeError("not a mapping")
        return dict(value)
    if base.startswith("list"):
        if not isinstance(value, list):
            raise TypeError("not a list")
        return [str(v) for v in value]
    return value  # pragma: no cover - every declared type is handled above
