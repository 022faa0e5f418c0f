"""The gate's adapter over the migrations engine (`ahsd_config.migrate`).

The engine loads its chain from a folder; the gate reads revision files at git refs, as text, and
must report problems as findings with file positions rather than stop at the first exception.
This module is that seam, and nothing more:

- `parse(text, path) -> Located`: the engine's `Revision` plus the line/column of its id, of each
  change and of each rationale. An empty rationale (which the engine refuses outright) is read as
  the placeholder, so the gate reports it like one: AHSD603 at its line, not a format error.
- `Chain`: a `RevisionMap` over the located revisions (graph errors become data, not exceptions).
- `replay(chain, text, rid, down)`: the engine's `apply_revision` on a config text (comments kept,
  stamps written), conflicts returned instead of raised; `replay_steps` applies a run of steps
  in one pass (one parse and one dump of the text, however many steps).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from ahsd_config.api.migrations import apply_revision, apply_steps
from ahsd_config.input.loader import load_text
from ahsd_config.migrate import (
    PLACEHOLDER,
    CycleDetected,
    MigrationConflict,
    Revision,
    RevisionFormatError,
    RevisionGraphError,
    RevisionMap,
    Step,
    is_placeholder,
    parse_revision,
)
from ahsd_config.migrate.errors import RevisionApplyError
from ahsd_config.values import MISSING
from ahsd_config.migrate.keys import flatten, same
from ahsd_config.migrate.state import apply_plain, check, primitive

__all__ = [
    "MISSING", "PLACEHOLDER", "Chain", "Located", "RevisionFormatError", "Step",
    "PlainReplay", "flatten", "is_placeholder", "key_path", "parse", "replay", "replay_plain", "replay_steps",
    "same",
]


@dataclass(frozen=True)
class Located:
    """A revision file as read from git: the engine's revision and where its parts are (1-based)."""

    revision: Revision
    path: str
    id_position: tuple[int, int]
    change_positions: tuple[tuple[int, int], ...]
    rationale_positions: tuple[tuple[int, int] | None, ...]  # None: the change has no `rationale:`
    written_rationales: tuple[str, ...]  # as the file has them ("" where empty or absent)

    @property
    def id(self) -> str:
        return self.revision.id


def parse(text: str, path: str) -> Located:
    """Revision text -> Located. Raises `InputError` (bad YAML) or `RevisionFormatError` (bad shape)."""
    doc = load_text(text, path)
    data = doc.plain()
    changes = data.get("changes") if isinstance(data, dict) else None
    written: list[str] = []
    rationale_positions: list[tuple[int, int] | None] = []
    if isinstance(changes, list):
        for i, change in enumerate(changes):
            if not isinstance(change, dict):
                continue
            said = change.get("rationale")
            written.append(said if isinstance(said, str) else "")
            rationale_positions.append(doc.position(("changes", i, "rationale")) if "rationale" in change else None)
            if not (isinstance(said, str) and said.strip()):
                change["rationale"] = PLACEHOLDER  # reported by the gate as a missing rationale
    revision = parse_revision(data, path)
    return Located(
        revision=revision,
        path=path,
        id_position=doc.position(("id",)),
        change_positions=tuple(doc.position(("changes", i)) for i in range(len(revision.changes))),
        rationale_positions=tuple(rationale_positions),
        written_rationales=tuple(written),
    )


def format_error_position(located_text: str, path: str, error: RevisionFormatError) -> tuple[int, int]:
    """Where a `RevisionFormatError` points: its `change N`, else the top of the file."""
    m = re.search(r"change (\d+)", error.message)
    if not m:
        return (1, 1)
    try:
        return load_text(located_text, path).position(("changes", int(m.group(1)) - 1))
    except Exception:  # noqa: BLE001 - a position is a nicety; the message stands on its own
        return (1, 1)


class Chain:
    """The revisions at one ref, as a graph. Missing parents and duplicates are left out by the caller."""

    def __init__(self, located: dict[str, Located]) -> None:
        self.located = located
        self.map = RevisionMap([loc.revision for loc in located.values()])
        self.cycle: list[str] | None = None
        try:
            self.map.by_id  # noqa: B018 - builds and checks the graph once
        except CycleDetected as exc:
            self.cycle = exc.cycle
        except RevisionGraphError:
            self.cycle = []

    @property
    def ok(self) -> bool:
        return self.cycle is None

    def heads(self) -> list[str]:
        return self.map.heads if self.ok else []

    def order(self) -> list[str]:
        return self.map.order if self.ok else sorted(self.located)

    def path(self, start: str | None, end: str) -> list[Step]:
        return self.map.path(start, end)

    def __contains__(self, rid: object) -> bool:
        return rid in self.located


# ---------------------------------------------------------------------------------- plain data


def key_path(dotted: str) -> tuple[Any, ...]:
    """'a.per_param_tail_bounds.2' -> ('a', 'per_param_tail_bounds', 2), for document positions."""
    return tuple(int(p) if p.lstrip("-").isdigit() else p for p in dotted.split("."))


# ----------------------------------------------------------------------------------------- text


def replay(chain: Chain, text: str, rid: str, down: bool = False, path: str = "<config>") -> tuple[str | None, list[str]]:
    """Apply (or revert) revision `rid` on a config text with the engine: (text, []) or (None, conflicts)."""
    try:
        return apply_revision(text, rid, down=down, rmap=chain.map, path=path).text, []
    except MigrationConflict as exc:
        return None, [c.describe() for c in exc.conflicts]
    except RevisionApplyError as exc:  # written through a value, a transform on the wrong type
        return None, [exc.message]


def replay_steps(chain: Chain, text: str, steps: list[Step], path: str = "<config>") -> str | None:
    """Apply a run of steps on a config text in one pass (what `migrate` does); None on a conflict."""
    try:
        return apply_steps(text, steps, rmap=chain.map, path=path).text
    except (MigrationConflict, RevisionApplyError):
        return None


@dataclass(frozen=True)
class PlainReplay:
    """Apply then revert one revision on the chain's own state at its parent (plain data)."""

    conflicts: list[str]  # applying: values that differ from what a change expects
    changed: list[str]  # after the revert: keys whose value (or presence) differs from the parent state
    moved: list[str]  # after the revert: keys back with their values but in another place


def replay_plain(chain: Chain, rid: str) -> PlainReplay | None:
    """Up then down on the parent state as data; None for a root or merge revision (no single parent state).

    Plain data carries no number style, so this checks values and key order; byte identity is
    checked where a real config text passes through the revision (`replay`).
    """
    revision = chain.located[rid].revision
    if len(revision.parents) != 1:
        return None
    try:
        return _replay_plain(chain, rid, revision)
    except RevisionApplyError as exc:  # written through a value, a transform on the wrong type
        return PlainReplay([exc.message], [], [])


def _replay_plain(chain: Chain, rid: str, revision) -> PlainReplay:
    parent = chain.map.state(revision.parents[0])
    implicit = chain.map.implicit
    data = copy.deepcopy(parent)
    conflicts: list[str] = []
    for down, changes in ((False, revision.changes), (True, tuple(reversed(revision.changes)))):
        for change in changes:
            prim = primitive(change, down)
            conflict = check(data, prim, rid, implicit)
            if conflict is not None and not down:
                conflicts.append(conflict.describe())
            data = apply_plain(data, prim, implicit)
        if conflicts:
            return PlainReplay(conflicts, [], [])
    before, after = flatten(parent), flatten(data)
    changed = [k for k in before if k not in after or not same(before[k], after[k])]
    changed += [k for k in after if k not in before]
    moved = [] if changed else _moved(list(before), list(after))
    return PlainReplay([], changed, moved)


def _moved(before: list[str], after: list[str]) -> list[str]:
    """Per section whose key order changed, the key that moved furthest (the one put elsewhere)."""
    def positions(order: list[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for key in order:
            section = out.setdefault(key.rpartition(".")[0], {})
            section[key] = len(section)
        return out

    was, now = positions(before), positions(after)
    moved = []
    for section, keys in was.items():
        shift = {k: abs(i - now.get(section, {}).get(k, i)) for k, i in keys.items()}
        if any(shift.values()):
            moved.append(max(shift, key=lambda k: shift[k]))
    return moved
