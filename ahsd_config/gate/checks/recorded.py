"""The `recorded` check (AHSD601): replay the revisions from base to head on the base values;
every key must end as the pull request leaves it at head. Fills the table of changed keys."""

from __future__ import annotations

from typing import Any

from ahsd_config.gate import chain
from ahsd_config.gate.context import GateRun, stamp_of, without_stamp
from ahsd_config.gate.result import UNRECORDED, KeyChange
from ahsd_config.input.loader import YamlDocument
from ahsd_config.values import MISSING, show
from ahsd_config.migrate.walk import replay_and_record


def steps_for(run: GateRun, base_doc: YamlDocument, head_doc: YamlDocument) -> list[chain.Step]:
    """From the base's revision (its stamp, or the exact match of an unstamped file) to the
    chain's head (a wrong stamp at head is the stamp check's finding, not a value's); without
    a base revision, the revisions the pull request added."""
    start = base_revision(run, base_doc)
    end = run.head_revision or (stamp_of(head_doc) if stamp_of(head_doc) in run.chain else None)
    if start is not None and end is not None and run.chain.ok:
        return run.chain.path(start, end)
    return [chain.Step(run.chain.located[rid].revision, False) for rid in run.added]


def base_revision(run: GateRun, doc: YamlDocument) -> str | None:
    stamp = stamp_of(doc)
    if stamp in run.chain:
        return stamp
    if stamp is None and run.chain.ok and run.chain.located:
        from ahsd_config.api.migrations import infer

        found = infer(without_stamp(doc.plain()), run.chain.map)
        return found.revision if found.exact else None
    return None


def check_recorded(run: GateRun, path: str, base_doc: YamlDocument, head_doc: YamlDocument,
                   steps: list[chain.Step]) -> None:
    """Replay the revisions from base to head on the base values; every key must end as at head."""
    base_flat = chain.flatten(without_stamp(base_doc.plain()))
    head_flat = chain.flatten(without_stamp(head_doc.plain()))
    end, records = replay_and_record(without_stamp(base_doc.plain()), steps, run.chain.map.implicit)
    state = chain.flatten(end)
    implicit = run.chain.map.implicit if run.chain.ok else frozenset()
    for key in sorted(set(base_flat) | set(head_flat) | set(state), key=_key_order(head_flat, base_flat)):
        old, new, replayed = (base_flat.get(key, MISSING), head_flat.get(key, MISSING), state.get(key, MISSING))
        if new is MISSING and key in implicit:
            replayed = MISSING  # an implicit key may stay out of the file
        recorded = chain.same(replayed, new)
        if chain.same(old, new) and recorded:
            continue
        steps_of_key = tuple(records.get(key, ()))
        if not chain.same(old, new):
            run.result.changes.append(KeyChange(path, key, old, new, steps_of_key, recorded))
        if not recorded:
            _report(run, path, head_doc, key, (old, new, replayed), steps_of_key)


def _report(run: GateRun, path: str, head_doc: YamlDocument, key: str, values: tuple[Any, Any, Any],
            steps_of_key: tuple) -> None:
    old, new, replayed = values
    line, col = head_doc.position(chain.key_path(key))
    names = ", ".join(dict.fromkeys(s.revision for s in steps_of_key))
    if chain.same(old, new):
        message = f"{key} is still {show(new)} at head, but revision {names} takes it to {show(replayed)}"
        hint = f"apply the revisions with `ahsd-config migrate {path} --to head`"
    elif not steps_of_key:
        message = f"{key} changed {show(old)} -> {show(new)} with no revision recording it"
        hint = (f"record it with `ahsd-config revision -m \"...\" --from {path}`, then write the "
                f"rationale of each change in the new revision file (the command also stamps {path})")
    else:
        message = f"{key} changed {show(old)} -> {show(new)}, but revision {names} takes it to {show(replayed)}"
        hint = (f"make the file match the revisions, or record the difference with "
                f"`ahsd-config revision -m \"...\" --from {path}`")
    run.add("recorded", path, UNRECORDED, message, key=key, line=line, column=col, hint=hint)


def _key_order(*flats: dict[str, Any]):
    order: dict[str, int] = {}
    for flat in flats:
        for key in flat:
            order.setdefault(key, len(order))
    return lambda key: (order.get(key, len(order)), key)
