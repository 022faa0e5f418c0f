"""The run directory: what a run writes besides checkpoints, and how it is read back.

    <run>/
      run.json               command, config path, revision, sha256, forced?, findings, status
      config.resolved.yaml   the validated config after overrides (what actually ran)
      metrics.jsonl          one JSON object per line: {"kind": "step"|"epoch", ...} (records.py)
      tb/                    TensorBoard event files (torch.utils.tensorboard)
      plots/*.png            curves (plots.py)
      checkpoints/           checkpoint.py
      report.json            the checklist and final metrics (report.py)

`metrics.jsonl` is append-only (flushed per line, fsynced per epoch); a resume first rewrites it,
atomically, without the records past the checkpoint's step, so the log matches an uninterrupted run.
Every other file is written atomically (temp + fsync + rename).
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

from ahsd_config.input.files import LineTooLong, TooLarge, atomic_write, read_bounded, read_lines_bounded
from ahsd_train.errors import RunFileError
from ahsd_train.run.records import Record, from_json

RUN_JSON = "run.json"
RESOLVED = "config.resolved.yaml"
METRICS = "metrics.jsonl"
REPORT = "report.json"
CHECKPOINTS = "checkpoints"


def to_json_safe(value: Any) -> Any:
    """NaN/Inf become null (JSON has neither); tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_safe(v) for v in value]
    return value


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, json.dumps(to_json_safe(data), indent=2, sort_keys=False) + "\n")


MAX_JSON_BYTES = 64 * 1024 * 1024  # run.json / report.json are kilobytes; /dev/zero is not


def read_json(path: Path) -> Any:
    """A run's JSON file through the bounded reader: a run.json that is /dev/zero or a FIFO is
    refused (OSError / TooLarge), never read until memory runs out or waited on forever."""
    try:
        raw = read_bounded(path, MAX_JSON_BYTES)
    except TooLarge as exc:  # an OSError like the others, so every reader's handling covers it
        raise OSError(errno.EFBIG, f"{exc.size} bytes or more, past {MAX_JSON_BYTES}", str(path)) from None
    return json.loads(raw.decode("utf-8"))


def dump_yaml(data: Any) -> str:
    """Plain data as YAML through `ahsd_config`'s writer (the one float spelling every product file
    uses: `8.0e-05`, never `8e-05`); block mappings, flow scalar lists, key order kept."""
    from ahsd_config.input.loader import make_yaml
    from ahsd_config.migrate.rt import to_rt

    buf = io.StringIO()
    make_yaml().dump(to_rt(_lists(data)), buf)
    return buf.getvalue()


def _lists(value: Any) -> Any:
    """Tuples (pydantic's python-mode sequences) as lists; mapping keys keep their type."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value


def read_metrics(run_dir: Path) -> list[Record]:
    """Every complete record of `metrics.jsonl`, typed (a torn last line from a kill is ignored, and
    so is a hand-edited line that is not a step or epoch record). RunFileError when the file is not
    one a run writes: a FIFO or a device, past MAX_METRICS_BYTES, or a line past MAX_LINE_BYTES."""
    return [r for r in (from_json(raw) for raw in _raw_lines(run_dir)) if r is not None]


MAX_METRICS_BYTES = 1 << 30  # ~1.5 million step records; the reader holds them all as records
MAX_LINE_BYTES = 1 << 20  # a step record is under 1 kB; an epoch record a few kB


def _raw_lines(run_dir: Path) -> list[dict[str, Any]]:
    """The JSON objects of `metrics.jsonl` as written (a resume keeps them byte for byte), read
    through the bounded line reader: never /dev/zero, a FIFO, or one line until memory runs out."""
    path = run_dir / METRICS
    if not path.exists() and not path.is_symlink():
        return []
    records = []
    try:
        for _, line in read_lines_bounded(path, MAX_LINE_BYTES, MAX_METRICS_BYTES):
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):  # not JSON, not UTF-8, nested past the parser
                continue
            if isinstance(record, dict):
                records.append(record)
    except LineTooLong as exc:
        raise RunFileError(f"{exc.path}:{exc.line}: a line of more than {exc.cap} bytes is not a "
                           "metrics record; remove that line (or move the file away) and try again") from None
    except TooLarge as exc:
        raise RunFileError(f"{path}: {exc.size} bytes or more, past the {exc.cap} bytes a metrics log "
                           "is read up to") from None
    except OSError as exc:
        raise RunFileError(f"{path}: unreadable metrics log ({exc.strerror or exc})") from None
    return records


class MetricsLog:
    """Append-only JSONL plus TensorBoard scalars; only rank 0 creates one."""

    def __init__(self, run_dir: Path, resume_step: int | None = None, tensorboard: bool = True,
                 kept: list[dict[str, Any]] | None = None) -> None:
        """`resume_step`: rewrite the log without the records past it (`kept`, when the caller
        read them already, before writing anything: `lines_through`)."""
        self.path = run_dir / METRICS
        if resume_step is not None:
            kept = lines_through(run_dir, resume_step) if kept is None else kept
            atomic_write(self.path, "".join(json.dumps(r) + "\n" for r in kept))
        self.file = open(self.path, "a", encoding="utf-8")
        self.tb = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(run_dir / "tb"), purge_step=resume_step)

    def write(self, record: Record) -> None:
        data = record.to_json()
        self.file.write(json.dumps(to_json_safe(data)) + "\n")
        self.file.flush()
        if self.tb is not None:
            self._scalars(record.step, record.kind, data)

    def _scalars(self, step: int, kind: str, data: dict[str, Any]) -> None:
        prefix = "train" if kind == "step" else "epoch"
        for key, value in _flat_numbers(data):
            if key not in ("step", "epoch", "batch"):
                self.tb.add_scalar(f"{prefix}/{key}", value, step)

    def sync(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        if self.tb is not None:
            self.tb.flush()

    def close(self) -> None:
        self.sync()
        self.file.close()
        if self.tb is not None:
            self.tb.close()


def lines_through(run_dir: Path, step: int) -> list[dict[str, Any]]:
    """The log's records up to `step` (what a resume from that step keeps); RunFileError as
    `read_metrics`."""
    return [r for r in _raw_lines(run_dir) if _step_of(r) <= step]


def _step_of(raw: dict[str, Any]) -> int:
    """A raw line's step for the resume cut (a line without an integer step counts as step 0: kept)."""
    step = raw.get("step", 0)
    return step if isinstance(step, int) and not isinstance(step, bool) else 0


def _flat_numbers(record: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, float]]:
    for key, value in record.items():
        if isinstance(value, dict):
            yield from _flat_numbers(value, f"{prefix}{key}/")
        elif isinstance(value, bool):
            yield f"{prefix}{key}", float(value)
        elif isinstance(value, (int, float)) and math.isfinite(value):
            yield f"{prefix}{key}", float(value)
