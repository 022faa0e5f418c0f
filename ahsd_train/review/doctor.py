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
writes the reason). No draft when nothing needs escalating. The draft is parented on the chain's
head (or `--parent REV`) and computed on that revision's values, so it applies cleanly there; it is
written into the run directory, outside `migrations/`, until a person accepts it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ahsd_train.run import runlog
from ahsd_train.errors import DoctorError

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
    notes: list[str] = field(default_factory=list)  # how the run folder was read (an older format)

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
    from ahsd_train.run.report import checklist_for

    run_dir = Path(run_dir)
    resolved = run_dir / runlog.RESOLVED
    if not resolved.is_file():
        raise DoctorError(f"{run_dir}: not a run directory (no {runlog.RESOLVED}); "
                          "pass the folder `ahsd-train run` printed")
    notes: list[str] = []
    config = run_config(resolved, notes)
    info = _run_file(run_dir / runlog.RUN_JSON, runlog.read_json, dict)
    saved = _run_file(run_dir / runlog.REPORT, runlog.read_json, dict)
    status = info.get("status", "unknown")
    stop_reason = saved.get("stop_reason")
    if status == "running" and not saved:
        stop_reason = "the run ended without a report (killed or crashed); resume it with --resume"
    elif status == "failed" and not saved:
        stop_reason = f"the run {info.get('end_reason', 'failed')}; fix that, then resume it with --resume"
    records = runlog.read_metrics(run_dir)
    items = checklist_for(records, config, bool(info.get("has_batchnorm", config.priority_net.use_strain)),
                          stop_reason=stop_reason)
    report = {"checklist": [v.to_json() for v in items], "metrics": saved.get("metrics", {}),
              "stop_reason": stop_reason, "status": status}
    diagnosis = Diagnosis(run_dir, report, config, status, notes=notes)
    if diagnosis.gradients_high:
        bn = next(i for i in report["checklist"] if i["name"] == "batchnorm_train_mode")
        diagnosis.fixes = escalation(config.priority_net, bn)
    return diagnosis


def run_config(resolved: Path, notes: list[str] | None = None):
    """The `TrainingConfig` a run ran with, read from its config.resolved.yaml by the one road from
    YAML to a config (`ahsd_config.api.load_config`). Error findings do not stop a diagnosis (a
    forced run has them); a file the schema rejects, or cannot read, is DoctorError naming it.

    A run folder written before 2ea7544 (Nov 30 2026) spelled integer mapping keys as strings
    (`per_param_tail_bounds: {'0': 3.0}`: a JSON-mode dump); those maps are read back with their
    integer keys, given as `--set`-style overrides on the same road, and `notes` says so."""
    from ahsd_config.api import load_config
    from ahsd_config.errors import AhsdConfigError

    try:
        loaded = load_config(resolved, refuse_errors=False)
        if loaded.config is None and (upgrade := _digit_key_overrides(loaded)):
            loaded = load_config(resolved, tuple(upgrade.values()), refuse_errors=False)
            if loaded.config is not None and notes is not None:
                notes.append(f"{resolved} was written before ahsd-train 2ea7544, with integer keys as "
                             f"strings ({', '.join(upgrade)}); read with them as integers")
    except AhsdConfigError as exc:
        raise DoctorError(f"{resolved}: unreadable ({' '.join(exc.message.split())[:200]})") from None
    if loaded.config is None:
        first = next((f for f in loaded.report.findings if f.severity == "error"), None)
        why = f"{first.code} {first.message}" if first else "the schema rejects it"
        raise DoctorError(f"{resolved}: not a config this version can read ({why})")
    return loaded.config


def _digit_key_overrides(loaded) -> dict[str, str]:
    """{dotted map: "map={0: v, ...}"} for each mapping whose keys are all digit strings and every
    one of them refused by the schema (AHSD902 at `map.KEY`): an older JSON-mode dump of an
    integer-keyed map, unambiguous to read back."""
    import json

    from ahsd_config.input.loader import format_key

    refused = {f.key for f in loaded.report.findings if f.severity == "error" and f.code == "AHSD902"}
    out: dict[str, str] = {}

    def walk(node: Any, path: tuple) -> None:
        if not isinstance(node, dict):
            return
        dotted = format_key(path) if path else ""
        keys = list(node)
        if (path and keys and all(isinstance(k, str) and k.isdigit() and k.isascii() for k in keys)
                and all(f"{dotted}.{k}" in refused for k in keys)):
            body = ", ".join(f"{int(k)}: {json.dumps(v)}" for k, v in node.items())
            out[dotted] = f"{dotted}={{{body}}}"
            return
        for k, v in node.items():
            if isinstance(k, str):
                walk(v, (*path, k))

    walk(loaded.document.plain(), ())
    return out


def draft_revision(diagnosis: Diagnosis, parent: str | None = None, today: dt.date | None = None,
                   chain: Path | None = None) -> dict[str, Any]:
    """The escalation's config changes as a revision document (migrations format, plain data).

    Parented on `parent` (default: the chain's current head, so accepting it never makes a second
    head) and computed on that revision's state: every `old:` is what the parent holds, so the
    draft applies cleanly to it (AHSD604 cannot fire), and every `new:` is the seed's step from
    that value. Raises DoctorError when nothing needs escalating: a draft then would only mislead."""
    if not diagnosis.fixes:
        raise DoctorError(f"{diagnosis.run_dir}: gradients within limits, nothing to escalate: no draft written")
    today = today or dt.datetime.now(dt.timezone.utc).date()
    from ahsd_config.migrate import keys
    from ahsd_config.values import MISSING

    rid, base, state = _parent_config(parent, chain)
    bn = next((i for i in diagnosis.report["checklist"] if i["name"] == "batchnorm_train_mode"), None)
    fixes = [f for f in escalation(base.priority_net, bn) if f.key is not None]
    failed = [i for i in diagnosis.report["checklist"] if i["name"] in HIGH_GRADIENT_CHECKS and not i["passed"]]
    why = ", ".join(f"{i['name']} {_fmt(i['value'])} vs {_fmt(i['threshold'])}" for i in failed)
    return {
        "id": f"{rid}-doctor-{today.strftime('%Y%m%d')}",
        "parents": [rid],
        "date": today.isoformat(),
        "title": f"Draft from ahsd-train doctor {diagnosis.run_dir.name}: gradients ran high ({why}); "
                 "the seed note's next fixes in order",
        # a key the parent does not write (its schema default applies) is added, not set
        "changes": [{"op": "set", "key": f.key, "old": f.old, "new": f.new, "rationale": PLACEHOLDER}
                    if keys.get(state, f.key) is not MISSING else
                    {"op": "add", "key": f.key, "value": f.new, "rationale": PLACEHOLDER}
                    for f in fixes],
    }


def draft_notes(diagnosis: Diagnosis, draft: dict[str, Any]) -> list[str]:
    """Where the draft's values differ from the run's (the run was not at the draft's parent)."""
    from ahsd_config.migrate import keys

    run = diagnosis.config.model_dump(mode="python")
    notes = []
    for c in draft["changes"]:
        ran, held = keys.get(run, c["key"]), c.get("old", c.get("value"))
        if c["op"] == "set" and ran != held:
            notes.append(f"{c['key']}: the run used {num(ran)}, {draft['parents'][0]} holds {num(held)}; "
                         f"the draft changes {draft['parents'][0]}'s value (pass --parent "
                         f"{diagnosis.config.revision or 'REV'} to draft on the run's own revision)")
    return notes


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _parent_config(parent: str | None, chain: Path | None = None):
    """(revision id, TrainingConfig, state) at `parent` of the chain (the project's by default);
    head when `parent` is None."""
    from ahsd_config.migrate.errors import RevisionGraphError
    from ahsd_config.migrate.store import load_map
    from ahsd_config.schema import TrainingConfig

    try:
        rmap = load_map(chain)
        rid = rmap.resolve(parent or "head")
        state = rmap.state(rid)
        return rid, TrainingConfig.model_validate(state), state
    except RevisionGraphError as exc:
        raise DoctorError(f"cannot draft on {parent or 'head'}: {exc}") from None


def propose_migration(diagnosis: Diagnosis, out: Path | None = None, parent: str | None = None) -> Path:
    """Write the draft into `out` (a folder, or a .yaml path); default: the run directory.

    Never into `migrations/` unasked: there the chain loader, `check-migrations` and the gate would
    judge a revision nobody has accepted (placeholder rationales, a second head). Accepting it is a
    person's act: write each rationale, then move the file into `migrations/`."""
    from ahsd_config.migrate.model import parse_revision
    from ahsd_config.migrate.store import dump_revision, file_name
    from ahsd_config.input.project import writable_chain

    chain = writable_chain()  # a draft is for a project's chain: outside one, NoProject (exit 2)
    rev = parse_revision(draft_revision(diagnosis, parent, chain=chain), "<doctor draft>")
    as_file = out is not None and out.suffix in (".yaml", ".yml")
    path = out if as_file else Path(out or diagnosis.run_dir) / file_name(rev)
    if path.exists():
        raise DoctorError(f"{path} exists already; revision files are never overwritten (pass --out)")
    from ahsd_config.input.files import atomic_write

    atomic_write(path, dump_revision(rev))
    return path


def load_draft(path: Path) -> dict[str, Any]:
    """A written draft as plain data (what `draft_notes` compares with the run)."""
    from ahsd_config.input.loader import load_file

    return load_file(path).plain()
