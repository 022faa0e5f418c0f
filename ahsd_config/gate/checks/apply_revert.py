"""The `apply-revert` check: an added revision applies to its parent state (AHSD604) and reverting
it restores that state (AHSD605) - byte for byte on a config text walked up from base, values and
key order on the chain's own state for revisions no config passed through."""

from __future__ import annotations

from ahsd_config.gate import chain
from ahsd_config.gate.context import GateRun, stamp_of
from ahsd_config.gate.result import NO_APPLY, NO_REVERT
from ahsd_config.input.loader import YamlDocument


def replay_added(run: GateRun, path: str, base_doc: YamlDocument, steps: list[chain.Step]) -> None:
    """Walk the base text up the chain; each added revision must apply, then revert to the same bytes.

    The revisions between two checked ones are applied in one pass (as `migrate` does), so the text
    is parsed once per checked revision, not once per step; nothing is applied after the last."""
    if stamp_of(base_doc) not in run.chain:
        return  # unstamped text cannot be replayed byte for byte; the chain's state stands in
    text: str | None = base_doc.text
    passing: list[chain.Step] = []  # steps not checked here, applied together before the next check
    for step in steps:
        if step.down:
            return
        rid = step.revision.id
        if rid not in run.added or rid in run.replayed:
            passing.append(step)
            continue
        if passing:
            text = chain.replay_steps(run.chain, text, passing, path=path)
            passing = []
        if text is None:
            return
        run.replayed.add(rid)
        text = _replay(run, rid, text, path)
        if text is None:
            return


def _replay(run: GateRun, rid: str, text: str, witness: str) -> str | None:
    loc = run.chain.located[rid]
    applied, conflicts = chain.replay(run.chain, text, rid, path=witness)
    if applied is None:
        parent = ", ".join(loc.revision.parents) or "an empty config"
        run.add("apply-revert", loc.path, NO_APPLY,
                f"revision {rid} does not apply to {witness} at {parent}: " + "; ".join(conflicts),
                line=loc.id_position[0], hint="each change's `old:` must be the value the parent state holds")
        return None
    reverted, conflicts = chain.replay(run.chain, applied, rid, down=True, path=witness)
    if reverted != text:
        detail = "; ".join(conflicts) if conflicts else _first_difference(text, reverted or "")
        run.add("apply-revert", loc.path, NO_REVERT,
                f"revision {rid} does not revert byte-identically on {witness}: {detail}",
                line=loc.id_position[0],
                hint="give a `remove` the `after:` sibling it had, a rename its `was_after:`, "
                     "and a transform an inverse that undoes it")
    return applied


def check_unwitnessed_revisions(run: GateRun) -> None:
    """Added revisions no config text passed through: up and down on the chain's parent state."""
    if not run.chain.ok:
        return
    for rid in run.added:
        if rid in run.replayed or not run.chain.located[rid].revision.changes:
            continue
        run.replayed.add(rid)
        _replay_on_state(run, rid)


def _replay_on_state(run: GateRun, rid: str) -> None:
    loc = run.chain.located[rid]
    outcome = chain.replay_plain(run.chain, rid)
    if outcome is None:
        run.note("apply-revert", f"{rid} has no single parent state (a root or a merge); not replayed")
        return
    where = f"the chain's state at {loc.revision.parents[0]}"
    if outcome.conflicts:
        run.add("apply-revert", loc.path, NO_APPLY,
                f"revision {rid} does not apply to {where}: " + "; ".join(outcome.conflicts),
                line=loc.id_position[0], hint="each change's `old:` must be the value the parent state holds")
    elif outcome.changed:
        run.add("apply-revert", loc.path, NO_REVERT,
                f"revision {rid} does not revert to {where}: {', '.join(outcome.changed[:5])} "
                f"differ{'s' if len(outcome.changed) == 1 else ''} after applying and reverting it",
                line=loc.id_position[0], hint="give a transform an inverse that undoes it")
    elif outcome.moved:
        run.add("apply-revert", loc.path, NO_REVERT,
                f"revision {rid} reverts {where} with {', '.join(outcome.moved)} in another place "
                "(the values are restored)", severity="warning", line=loc.id_position[0],
                hint="give a `remove` the `after:` sibling it had, and a rename its `was_after:`")


def _first_difference(expected: str, got: str) -> str:
    a, b = expected.splitlines(), got.splitlines()
    for i, (x, y) in enumerate(zip(a, b), start=1):
        if x != y:
            return f"line {i} was {x.strip()!r}, after the revert it is {y.strip()!r}"
    return f"{len(a)} lines before, {len(b)} after the revert"
