"""The migrations room as library functions: each returns data or raises the package's errors.

The CLI (`cli/migrate.py`) and the CI gate call these; nothing here prints.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ahsd_config.api.chain import chain_or_load as _chain
from ahsd_config.api.chain import load_chain
from ahsd_config.api.diff import (  # noqa: F401 - `diff` lives in its own module; these names stay here
    DiffResult,
    Endpoint,
    GitShow,
    KeyDiff,
    RuleCrossing,
    diff,
    endpoint,
    returned_keys,
)
from ahsd_config.errors import UsageError
from ahsd_config.input.files import atomic_write, backup_path, folder_lock, locked, write_backup, write_target
from ahsd_config.input.loader import load_file, load_text, make_yaml, paused_gc, read_text, to_plain

from ahsd_config.migrate import keys, store
from ahsd_config.migrate.apply import STAMP_KEY, Applied, apply_text
from ahsd_config.migrate.build import changes_between
from ahsd_config.migrate.errors import MigrationInvalid, NotStamped
from ahsd_config.migrate.graph import RevisionMap, Step
from ahsd_config.migrate.model import PLACEHOLDER, Revision, parse_revision
from ahsd_config.migrate.order import frozen_key_order
from ahsd_config.migrate.state import apply_plain, check, primitive
from ahsd_config.migrate.walk import StepRecord, replay_and_record


# ----------------------------------------------------------------------------------- stamps
@dataclass(frozen=True)
class Inference:
    revision: str
    exact: bool
    differing: list[str]
    stamped: bool = False


def state_differences(data: dict, state: dict, implicit: frozenset[str] = frozenset()) -> list[str]:
    """Dotted keys where `data` (a file, stamp ignored) and a revision state disagree."""
    return _differences(_flat_config(data), keys.flatten(state), implicit)


def _flat_config(data: Any) -> dict[str, Any]:
    return {k: v for k, v in keys.flatten(data).items() if k != STAMP_KEY}


def _differences(a: dict[str, Any], b: dict[str, Any], implicit: frozenset[str]) -> list[str]:
    out = [k for k in a if k not in b or not keys.same(a[k], b[k])]
    out += [k for k in b if k not in a and k not in implicit]
    return out


def infer(data: dict, rmap: RevisionMap | None = None) -> Inference:
    """The revision whose full state matches `data` best (newest wins a tie).

    The file is flattened once; a key no revision has differs from every one alike, so each
    revision is compared on the chain's own keys only (work per revision: the chain's size, not
    the file's)."""
    rmap = _chain(rmap)
    flat = _flat_config(data)
    states = [(rid, keys.flatten(rmap.state(rid))) for rid in rmap.order]
    if not states:
        raise UsageError("there are no revisions to compare with")
    chain_keys = {k for _, state in states for k in state}
    shared = [k for k in flat if k in chain_keys]
    unknown = len(flat) - len(shared)
    best, fewest = states[0], -1
    for rid, state in states:
        count = unknown + sum(1 for k in shared if k not in state or not keys.same(flat[k], state[k]))
        count += sum(1 for k in state if k not in flat and k not in rmap.implicit)
        if fewest < 0 or count <= fewest:
            best, fewest = (rid, state), count
    differing = _differences(flat, best[1], rmap.implicit)
    return Inference(best[0], not differing, differing)


def current(path: str | Path, rmap: RevisionMap | None = None) -> Inference:
    """The file's stamp, or the inferred revision (exact, or nearest with the differing keys)."""
    rmap = _chain(rmap)
    data = load_file(path).plain()
    stamp = data.get(STAMP_KEY) if isinstance(data, dict) else None
    if stamp is not None:
        rid = rmap.resolve(str(stamp))
        diff = state_differences(data, rmap.state(rid), rmap.implicit)
        return Inference(rid, not diff, diff, stamped=True)
    return infer(data, rmap)


def stamp(path: str | Path, revision: str, rmap: RevisionMap | None = None) -> str:
    """Write `revision: REV` into the file (atomically); returns the resolved id."""
    rmap = _chain(rmap)
    rid = rmap.resolve(revision)
    with locked(path):
        text = read_text(path)
        result = apply_text(text, [], target=rid, path=str(path))
        if result.text != text:
            atomic_write(path, result.text)
    return rid


# ----------------------------------------------------------------------------------- migrate
@dataclass
class Plan:
    path: str
    source: str
    target: str
    steps: list[Step]
    original: str
    result: Applied
    inferred: bool = False

    @property
    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.original.splitlines(keepends=True), self.result.text.splitlines(keepends=True),
            fromfile=f"{self.path} ({self.source})", tofile=f"{self.path} ({self.target})"))


def source_revision(path: str, data: dict, rmap: RevisionMap) -> tuple[str, bool]:
    """The revision a file is at: its stamp, or an exact inference (else NotStamped)."""
    stamp_value = data.get(STAMP_KEY) if isinstance(data, dict) else None
    if stamp_value is not None:
        return rmap.resolve(str(stamp_value)), False
    guess = infer(data, rmap)
    if not guess.exact:
        raise NotStamped(path, guess.revision, guess.differing)
    return guess.revision, True


def plan(path: str | Path, to: str = "head", on_conflict: str | None = None,
         rmap: RevisionMap | None = None, text: str | None = None) -> Plan:
    """Everything `migrate` would do, without writing (raises MigrationConflict on conflicts)."""
    rmap = _chain(rmap)
    if on_conflict not in (None, "keep", "take"):
        raise UsageError(f"--on-conflict must be keep or take, not {on_conflict!r}")
    text = read_text(path) if text is None else text
    data = load_text(text, str(path)).plain()
    source, inferred = source_revision(str(path), data, rmap)
    target = rmap.resolve(to)
    steps = rmap.path(source, target)
    result = _restore_from_backup(path, text, data, source, target, rmap) if steps else None
    if result is None:
        result = apply_text(text, steps, target=target, path=str(path), on_conflict=on_conflict,
                            implicit=rmap.implicit, key_order=frozen_key_order)
    return Plan(str(path), source, target, steps, text, result, inferred)


def _restore_from_backup(path, text, data, source, target, rmap) -> Applied | None:
    """Going back to where FILE.bak was: if migrating the backup forward reproduces the file
    byte for byte, the backup *is* the exact inverse (it keeps comments removed keys took along).

    The values are compared first (plain data, no parse of either text on the round-trip road):
    a backup that cannot reproduce FILE's values cannot reproduce its bytes."""
    bak = backup_path(path)
    try:
        old = read_text(bak)
        old_data = load_text(old, str(bak)).plain()
        old_rev, _ = source_revision(str(bak), old_data, rmap)
        if old_rev != target:
            return None
        steps = rmap.path(old_rev, source)
        if not _may_reproduce(old_data, steps, data, rmap):
            return None
        forward = apply_text(old, steps, target=source, path=str(bak),
                             implicit=rmap.implicit, key_order=frozen_key_order)
    except Exception:  # any doubt: fall back to applying the steps
        return None
    if forward.text != text:
        return None
    return Applied(old, old_data, [], old != text)


def _may_reproduce(old_data: Any, steps: list[Step], data: Any, rmap: RevisionMap) -> bool:
    """False when applying `steps` to the backup's values cannot give FILE's values (a conflict
    stops the text migration; different values give different bytes). Loose on purpose (`==`, key
    order and the stamp ignored): True only sends the case on to the byte-for-byte comparison."""
    try:
        values = copy.deepcopy(old_data)
        for step in steps:
            for change in (reversed(step.revision.changes) if step.down else step.revision.changes):
                p = primitive(change, step.down)
                if check(values, p, step.revision.id, rmap.implicit) is not None:
                    return False
                values = apply_plain(values, p, rmap.implicit)
    except Exception:  # noqa: BLE001 - undecided: let the text migration answer
        return True
    strip = lambda d: {k: v for k, v in d.items() if k != STAMP_KEY} if isinstance(d, dict) else d  # noqa: E731
    return strip(values) == strip(data)


@dataclass
class MigrateResult:
    plan: Plan
    written: bool
    backup: str | None = None


def migrate(path: str | Path, to: str = "head", on_conflict: str | None = None, dry_run: bool = False,
            rmap: RevisionMap | None = None, validate: bool = True) -> MigrateResult:
    """Move FILE to revision `to` (up or down). Atomic; FILE.bak keeps the previous content."""
    rmap = _chain(rmap)
    with locked(path):
        p = plan(path, to, on_conflict, rmap)
        if dry_run or not p.result.changed:
            return MigrateResult(p, False)
        if validate:
            check_valid(str(path), p.result.text)
        bak = write_backup(path, p.original)
        atomic_write(path, p.result.text)
    return MigrateResult(p, True, str(bak))


# A value the schema can never accept, whatever keys it grows: a wrong type (AHSD902), out of range
# or not finite (AHSD903). Unknown and missing keys (AHSD901/904) may precede the schema change that
# a rename or an addition goes with, so `revision` records them.
VALUE_ERRORS = ("AHSD902", "AHSD903")


def schema_errors(doc: Any, codes: tuple[str, ...] = ("AHSD9",)) -> list[str]:
    """`key: message` for each schema error (codes starting with one of `codes`) of a loaded
    document, in `validate`'s order, less what the file suppresses; rules' advice does not count,
    so the rules are not run. What migrate and revision refuse to write."""
    from ahsd_config.api.validate import apply_suppressions, schema_findings
    from ahsd_config.findings import Finding

    with paused_gc():  # a finding per unknown key (see `validate.check_document`)
        _, findings = schema_findings(doc, doc.plain())
        kept, _ = apply_suppressions(doc, findings)
        kept.sort(key=Finding.sort_key)
    return [f"{f.key}: {f.message}" for f in kept if f.severity == "error" and f.code.startswith(codes)]


def check_valid(path: str, text: str) -> None:
    """Refuse a result the schema rejects (AHSD9xx errors); rules' advice does not block."""
    errors = schema_errors(load_text(text, path))
    if errors:
        raise MigrationInvalid(path, errors)


def apply_revision(text: str, revision: str, down: bool = False, rmap: RevisionMap | None = None,
                   path: str = "<config>", on_conflict: str | None = None) -> Applied:
    """Apply (or revert, `down=True`) ONE revision to a config text; stamps the resulting revision."""
    rmap = _chain(rmap)
    rev = rmap.get(revision)
    target = (rev.parents[0] if rev.parents else None) if down else rev.id
    return apply_text(text, [Step(rev, down)], target=target, path=path, on_conflict=on_conflict,
                      implicit=rmap.implicit, key_order=frozen_key_order, stamp=target is not None)


def apply_steps(text: str, steps: list[Step], rmap: RevisionMap | None = None, path: str = "<config>",
                on_conflict: str | None = None) -> Applied:
    """Apply a path of steps to a config text in one pass (one parse, one dump) and stamp where it
    ends: what `migrate --to` writes, and what applying them one by one writes."""
    rmap = _chain(rmap)
    last = steps[-1] if steps else None
    target = None if last is None else (last.revision.parents[0] if last.revision.parents else None) \
        if last.down else last.revision.id
    return apply_text(text, steps, target=target, path=path, on_conflict=on_conflict,
                      implicit=rmap.implicit, key_order=frozen_key_order, stamp=target is not None)


def roundtrip_ok(text: str, revision: str, rmap: RevisionMap | None = None) -> bool:
    """True when reverting `revision` from `text` and applying it again gives `text` byte for byte."""
    rmap = _chain(rmap)
    down = apply_revision(text, revision, down=True, rmap=rmap)
    return apply_revision(down.text, revision, rmap=rmap).text == text


def placeholder_changes(rmap: RevisionMap | None = None, revisions: list[str] | None = None
                        ) -> list[tuple[str, int, str]]:
    """(revision id, 1-based change index, key) of every change whose rationale is a placeholder."""
    return _chain(rmap).placeholder_changes(revisions)


# ----------------------------------------------------------------------------------- history
def history(rng: str | None = None, rmap: RevisionMap | None = None) -> list[Revision]:
    """Revisions oldest first; `rng` 'v13:v15' = after v13 up to v15 (either side may be empty)."""
    rmap = _chain(rmap)
    ids = rmap.range(rng) if rng else rmap.order
    if rng and not ids:
        start, _, end = rng.partition(":")
        if start and end and rmap.resolve(start) != rmap.resolve(end) \
                and rmap.resolve(end) in rmap.ancestors(rmap.resolve(start)):
            raise UsageError(f"-r {rng}: {start} comes after {end}, so the range is empty; "
                             f"ranges go oldest first: -r {end}:{start}")
        raise UsageError(f"-r {rng}: the range holds no revisions")
    return [rmap.get(r) for r in ids]


def log_key(key: str, rmap: RevisionMap | None = None) -> list[StepRecord]:
    """Every revision that touched `key` (or a key under it): values, date and rationale."""
    rmap = _chain(rmap)
    head = rmap.head
    _, steps = replay_and_record({}, rmap.path(None, head))
    out = []
    for k, ss in steps.items():
        if k == key or k.startswith(key + "."):
            out.extend(ss)
    if not out:
        close = difflib.get_close_matches(key, list(steps), n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else " (`ahsd-config show head` prints every key)"
        raise UsageError(f"no revision touches {key}{hint}")
    order = {r: i for i, r in enumerate(rmap.order)}
    return sorted(out, key=lambda s: order.get(s.revision, 0))


def show(revision: str = "head", rmap: RevisionMap | None = None) -> dict:
    """The full plain config at a revision."""
    return _chain(rmap).state(revision)


def show_text(revision: str = "head", rmap: RevisionMap | None = None) -> str:
    rmap = _chain(rmap)
    rid = rmap.resolve(revision)
    data = {STAMP_KEY: rid, **rmap.state(rid)}
    return _yaml_text(data)


def heads(rmap: RevisionMap | None = None) -> list[Revision]:
    rmap = _chain(rmap)
    return [rmap.get(h) for h in rmap.heads]


def _yaml_text(data: dict) -> str:
    """Plain data as a YAML file (floats in `values.float_text`'s spelling: PyYAML reads them too)."""
    buf = io.StringIO()
    make_yaml().dump(copy.deepcopy(to_plain(data)), buf)
    return buf.getvalue()


# ----------------------------------------------------------------------------------- authoring
def _folder(folder: str | Path | None) -> Path:
    """Where a writer puts revisions: the given folder, else the project's (never the shipped chain)."""
    from ahsd_config.input.project import writable_chain

    return Path(folder) if folder is not None else writable_chain()


def _today() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _fresh_id(rmap: RevisionMap, base: str) -> str:
    if base not in rmap:
        return base
    for suffix in "abcdefghijklmnopqrstuvwxyz":
        if base + suffix not in rmap:
            return base + suffix
    raise UsageError(f"no free revision id near {base}; pass --id")


def new_revision(title: str, source: str | Path, rev_id: str | None = None,
                 rmap: RevisionMap | None = None, folder: str | Path | None = None,
                 stamp: bool = False) -> Revision:
    """Write a revision holding FILE's differences to head, one placeholder rationale per change;
    with `stamp`, FILE is stamped at it in the same atomic step (a kill leaves both old or both new)."""
    folder = _folder(folder)  # outside a project: refuse before anything else
    if stamp and not str(write_target(source)).endswith((".yaml", ".yml")):  # the only files a journal may replace
        raise UsageError(f"{source}: only a .yaml or .yml file is stamped with the revision it records "
                         "(the two are written as one set); rename it, or pass --no-stamp")
    with folder_lock(folder):  # read-check-write under the folder's lock: two at once stay a chain
        if not stamp:
            return _new_revision(title, source, rev_id, _chain(rmap), folder)
        with locked(source):  # FILE is edited in place: a migrate of it waits
            return _new_revision(title, source, rev_id, _chain(rmap), folder, stamp=True)


def _new_revision(title: str, source: str | Path, rev_id: str | None, rmap: RevisionMap, folder: Path,
                  stamp: bool = False) -> Revision:
    head = rmap.head
    doc = load_file(source)
    # the new head is FILE's values: a value the schema rejects would make every migrate to it fail
    errors = schema_errors(doc, VALUE_ERRORS)
    if errors:
        shown = "; ".join(errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
        raise UsageError(f"{source} does not validate, so no revision was written "
                         f"(`ahsd-config validate {source}` lists all): {shown}")
    data = {k: v for k, v in doc.plain().items() if k != STAMP_KEY}
    changes = changes_between(rmap.state(head), data, PLACEHOLDER)
    if not changes:
        raise UsageError(f"{source} already matches head ({head}); there is nothing to record")
    now = _today()
    rid = rev_id or _fresh_id(rmap, "v" + now[2:10].replace("-", ""))
    if rid in rmap:
        raise UsageError(f"revision id {rid} exists already")
    rev = Revision(rid, (head,), now, title, tuple(changes))
    parse_revision(rev.to_plain(), f"revision {rid}")  # a bad title is refused before any write
    stamped = None
    if stamp:
        text = read_text(source)
        stamped = {source: apply_text(text, [], target=rid, path=str(source)).text.encode("utf-8")}
    return _with_path(rev, store.replace_revisions(folder, [rev], chain=rmap, stamped=stamped)[0])


def with_revision(rmap: RevisionMap, rev: Revision) -> RevisionMap:
    """`rmap` and a revision just written to its folder, without reading the folder again."""
    return RevisionMap([*rmap.by_id.values(), rev])


def merge(rev1: str, rev2: str, title: str, rev_id: str | None = None,
          rmap: RevisionMap | None = None, folder: str | Path | None = None) -> Revision:
    """A revision with two parents and no changes: joins two heads into one."""
    folder = _folder(folder)
    with folder_lock(folder):
        return _merge(rev1, rev2, title, rev_id, _chain(rmap), folder)


def _merge(rev1: str, rev2: str, title: str, rev_id: str | None, rmap: RevisionMap, folder: Path) -> Revision:
    a, b = rmap.resolve(rev1), rmap.resolve(rev2)
    _check_two_heads(rmap, a, b)
    rid = rev_id or _fresh_id(rmap, f"merge_{a}_{b}")
    rev = Revision(rid, (a, b), _today(), title, ())
    parse_revision(rev.to_plain(), f"merge {rid}")  # a bad title is refused before any write
    return _with_path(rev, store.write_revision(folder, rev, rmap))


def _check_two_heads(rmap: RevisionMap, a: str, b: str) -> None:
    """A merge of anything but two different heads leaves the chain with more heads, not one (the
    gate's single-head check then fails on what `merge` wrote)."""
    heads = rmap.heads
    if a == b:
        raise UsageError(f"merge joins two different heads; {a} was given twice (heads: {', '.join(heads)})")
    for rid in (a, b):
        if rid not in heads:
            raise UsageError(f"{rid} is not a head, so merging it would add a head, not join two "
                             f"(heads: {', '.join(heads)})")


def squash(start: str, end: str, title: str | None = None, rmap: RevisionMap | None = None,
           folder: str | Path | None = None) -> Revision:
    """Replace the linear range start..end (inclusive) by one revision with id `end` that holds
    every change in order, rationales kept. Only for revisions nobody has stamped yet."""
    folder = _folder(folder)
    with folder_lock(folder):
        return _squash(start, end, title, _chain(rmap), folder)


def _squash(start: str, end: str, title: str | None, rmap: RevisionMap, folder: Path) -> Revision:
    start, end = rmap.resolve(start), rmap.resolve(end)
    ids = [r for r in rmap.range(f"{rmap.get(start).parents[0]}:{end}" if rmap.get(start).parents else f":{end}")]
    ids = [r for r in ids if start in rmap.ancestors(r)]
    revs = [rmap.get(r) for r in ids]
    for rev in revs[1:]:
        if len(rev.parents) != 1:
            raise UsageError(f"{rev.id} is a merge; squash only a linear range")
    for rev in revs[:-1]:
        others = [c for c in rmap.by_id.values() if rev.id in c.parents and c.id not in ids]
        if others:
            raise UsageError(f"{rev.id} has a child outside the range ({others[0].id}); squash only a linear range")
    changes = tuple(c for rev in revs for c in rev.changes)
    new = Revision(end, rmap.get(start).parents, rmap.get(end).date,
                   title or " + ".join(r.title for r in revs), changes)
    for rev in revs:
        if rev.path and Path(rev.path).resolve().parent != folder.resolve():
            raise UsageError(f"{rev.id} lives in {Path(rev.path).parent}, not in {folder}; squash only "
                             "revisions of the folder it writes to")
    parse_revision(new.to_plain(), f"squash {start}..{end}")  # a bad title is refused before any write
    path = store.replace_revisions(folder, [new], revs, rmap)[0]
    return _with_path(new, path)


def _with_path(rev: Revision, path: Path) -> Revision:
    return Revision(rev.id, rev.parents, rev.date, rev.title, rev.changes, str(path))
