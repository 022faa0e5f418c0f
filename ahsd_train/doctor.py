"""`ahsd-train doctor RUN_DIR`: the checklist of a finished or crashed run, and what to try next.

The checklist is recomputed from `metrics.jsonl` (so a run killed mid-epoch gets one too). When the
gradients ran high (norm above the clip, median above the typical band, or too many clipped steps)
the seed note's escalation follows, in its order, with the values that apply to this run's config:

    1. halve the learning rate                      priority_net.learning_rate
    2. normalise the loss by its components         priority_net.normalize_loss_by_components
    3. check BatchNorm is in train mode             (measured: the batchnorm_train_mode item)
    4. lower the uncertainty weight (halve it)      priority_net.uncertainty_weight
    5. lengthen the warm-up (+4 epochs)             priority_net.warmup_epochs

`propose_migration` writes steps 1, 2, 4, 5 as a draft revision in the migrations format, each
change with the placeholder rationale `TODO: explain why` (the gate refuses it until a human
writes the reason).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ahsd_train import runlog
from ahsd_train.trainer_errors import DoctorError

PLACEHOLDER = "TODO: explain why"
HIGH_GRADIENT_CHECKS = ("grad_norm_below_clip", "grad_norm_typical", "clipped_fraction")
WARMUP_EXTRA_EPOCHS = 4  # seed: "Increase warmup epochs: 6 -> 10"


@dataclass(frozen=True)
class Fix:
    text: str
    key: str | None = None
    old: Any = None
    new: Any = None


@dataclass
class Diagnosis:
    run_dir: Path
    report: dict[str, Any]
    config: Any  # TrainingConfig
    status: str
    fixes: list[Fix] = field(default_factory=list)

    @property
    def gradients_high(self) -> bool:
        return any(not i["passed"] for i in self.report["checklist"] if i["name"] in HIGH_GRADIENT_CHECKS)


def num(x: float) -> str:
    """Numbers as a researcher writes them: 3.0e-5, 1.0e-3, 0.075, 14."""
    if isinstance(x, bool) or isinstance(x, int):
        return str(x).lower() if isinstance(x, bool) else str(x)
    if x != 0 and abs(x) < 1e-2:
        mantissa, exp = f"{x:.1e}".split("e")
        return f"{mantissa}e{int(exp)}"
    return f"{x:g}"


def escalation(pn, bn_verdict: dict[str, Any] | None) -> list[Fix]:
    """The seed note's 'If gradients still high' list, in order, for this `priority_net` section."""
    lr = pn.learning_rate
    fixes = [Fix(f"halve the learning rate: priority_net.learning_rate {num(lr)} -> {num(lr / 2)}",
                 "priority_net.learning_rate", lr, lr / 2)]
    if pn.normalize_loss_by_components:
        fixes.append(Fix("normalise the loss by its components: already on "
                         "(priority_net.normalize_loss_by_components: true)"))
    else:
        fixes.append(Fix("normalise the loss by its components: "
                         "priority_net.normalize_loss_by_components false -> true",
                         "priority_net.normalize_loss_by_components", False, True))
    bn = ("the model has no BatchNorm" if bn_verdict is None
          else bn_verdict.get("reason", "") + (" (PASS)" if bn_verdict.get("passed") else " (FAIL)"))
    fixes.append(Fix(f"check BatchNorm is in train mode (model.train()): measured: {bn}"))
    w = pn.uncertainty_weight
    fixes.append(Fix(f"lower the uncertainty weight: priority_net.uncertainty_weight {num(w)} -> {num(w / 2)}",
                     "priority_net.uncertainty_weight", w, w / 2))
    we = pn.warmup_epochs
    fixes.append(Fix(f"lengthen the warm-up: priority_net.warmup_epochs {we} -> {we + WARMUP_EXTRA_EPOCHS}",
                     "priority_net.warmup_epochs", we, we + WARMUP_EXTRA_EPOCHS))
    return fixes


def _run_file(path: Path, reader, kind: type) -> Any:
    """A run file read with `reader`, or DoctorError naming it; absent -> an empty `kind`."""
    if not path.exists():
        return kind()
    try:
        data = reader(path)
    except Exception as exc:  # noqa: BLE001 - json/yaml/OS errors: every way a hand-edited file fails
        raise DoctorError(f"{path}: unreadable ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
    if not isinstance(data, kind):
        raise DoctorError(f"{path}: expected a JSON/YAML {kind.__name__}, found {type(data).__name__}")
    return data


def diagnose(run_dir: Path) -> Diagnosis:
    """Read a run directory (finished, stopped or crashed) and recompute its checklist."""
    from ahsd_config.schema import TrainingConfig
    from ahsd_train.report import checklist_for

    run_dir = Path(run_dir)
    resolved = run_dir / runlog.RESOLVED
    if not resolved.is_file():
        raise DoctorError(f"{run_dir}: not a run directory (no {runlog.RESOLVED}); "
                          "pass the folder `ahsd-train run` printed")
    # JSON mode: the dump has string keys where the schema has int keys (per_param_tail_bounds)
    try:
        config = TrainingConfig.model_validate_json(json.dumps(_run_file(resolved, runlog.read_yaml, dict)))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise DoctorError(f"{resolved}: not a config this version can read ({str(exc).splitlines()[0]})") from None
    info = _run_file(run_dir / runlog.RUN_JSON, runlog.read_json, dict)
    saved = _run_file(run_dir / runlog.REPORT, runlog.read_json, dict)
    status = info.get("status", "unknown")
    stop_reason = saved.get("stop_reason")
    if status == "running" and not saved:
        stop_reason = "the run ended without a report (killed or crashed); resume it with --resume"
    records = runlog.read_metrics(run_dir)
    items = checklist_for(records, config, bool(info.get("has_batchnorm", config.priority_net.use_strain)),
                          stop_reason=stop_reason)
    report = {"checklist": [v.to_json() for v in items], "metrics": saved.get("metrics", {}),
              "stop_reason": stop_reason, "status": status}
    diagnosis = Diagnosis(run_dir, report, config, status)
    if diagnosis.gradients_high:
        bn = next(i for i in report["checklist"] if i["name"] == "batchnorm_train_mode")
        diagnosis.fixes = escalation(config.priority_net, bn)
    return diagnosis


def draft_revision(diagnosis: Diagnosis, today: dt.date | None = None) -> dict[str, Any]:
    """The escalation's config changes as a revision document (migrations format, plain data)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    fixes = diagnosis.fixes or escalation(diagnosis.config.priority_net, None)
    parent = diagnosis.config.revision or _head()
    rid = f"{parent or 'base'}-doctor-{today.strftime('%Y%m%d')}"
    return {
        "id": rid,
        "parents": [parent] if parent else [],
        "date": today.isoformat(),
        "title": f"Draft from ahsd-train doctor {diagnosis.run_dir.name}: gradients ran high",
        "changes": [{"op": "set", "key": f.key, "old": f.old, "new": f.new, "rationale": PLACEHOLDER}
                    for f in fixes if f.key is not None],
    }


def propose_migration(diagnosis: Diagnosis, out: Path | None = None) -> Path:
    """Write the draft to `out` (a folder, or a .yaml path), default the project's migrations folder
    (`ahsd_config.project.writable_chain`: never the chain shipped inside the package).

    With the migrations package present its writer is used (format checked on the way out,
    never overwrites); without it, the same YAML is written here."""
    if out is None:  # outside a project this refuses before anything is drafted
        from ahsd_config.project import writable_chain

        out = writable_chain()
    draft = draft_revision(diagnosis)
    as_file = out.suffix in (".yaml", ".yml")
    folder = out.parent if as_file else out
    try:
        from ahsd_config.migrate.model import parse_revision
        from ahsd_config.migrate.store import dump_revision, write_revision
    except ImportError:  # the migrations package is optional for the trainer
        text, name = runlog.dump_yaml(draft), f"{draft['date']}_{draft['id']}.yaml"
    else:
        rev = parse_revision(draft, "<doctor draft>")
        if not as_file:
            Path(folder).mkdir(parents=True, exist_ok=True)
            return write_revision(folder, rev)
        text, name = dump_revision(rev), out.name
    path = Path(folder) / (out.name if as_file else name)
    if path.exists():
        raise DoctorError(f"{path} exists already; revision files are never overwritten (pass --out)")
    from ahsd_train.checkpoint import atomic_write_text

    atomic_write_text(path, text)
    return path


def _head() -> str | None:
    try:
        from ahsd_config.migrate.store import load_map

        return load_map().head
    except Exception:  # no chain yet, or a broken one: the draft just has no parent
        return None
