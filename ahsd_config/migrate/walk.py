"""The ONE replay-and-record walk: apply steps to plain data change by change, and record, per
dotted key, every change that moved it (revision, date, old -> new, rationale, direction).

`diff` (the steps between two revisions), `log` (every revision that touched a key, from the
empty config) and the CI gate's `recorded` check (the revisions between a config's base and head)
all read their per-key history from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from ahsd_config.values import MISSING

from . import keys
from .graph import Step
from .state import apply_plain, primitive


@dataclass(frozen=True)
class StepRecord:
    """A revision's part in one key's change: the value it moved from and to, and why."""

    revision: str  # the revision id
    date: str
    old: Any  # MISSING: the key was absent
    new: Any
    rationale: str
    down: bool = False  # the revision was reverted (a walk down the chain)

    @property
    def label(self) -> str:
        """The revision as diff prints it: `v15`, or `v15 (down)` for a reverted one."""
        return self.revision + (" (down)" if self.down else "")


def replay_and_record(data: dict, steps: Iterable[Step], implicit: frozenset[str] = frozenset()
                      ) -> tuple[dict, dict[str, list[StepRecord]]]:
    """Apply `steps` to `data` (in place, "take" semantics: a step's new value wins even where its
    expected old value differs); returns the end state and, per key, the records in order.

    Each change is compared on the flattened keys it can touch (`touched`), in `keys.flatten`'s
    order: the walk costs the size of the changes, not the config's size times their number (a
    file with 20,000 keys of its own). A transform may touch anything: it compares everything."""
    records: dict[str, list[StepRecord]] = {}
    for step in steps:
        rev = step.revision
        for change in (reversed(rev.changes) if step.down else rev.changes):
            p = primitive(change, step.down)
            roots = () if p.kind == "transform" else (p.key, p.to) if p.kind == "move" else (p.key,)
            before = touched(data, roots)
            data = apply_plain(data, p, implicit)
            after = touched(data, roots)
            for key in list(before) + [k for k in after if k not in before]:
                old, new = before.get(key, MISSING), after.get(key, MISSING)
                if not keys.same(old, new):
                    records.setdefault(key, []).append(
                        StepRecord(rev.id, rev.date, old, new, change.rationale, step.down))
    return data, records


def touched(data: dict, roots: tuple[str, ...]) -> dict[str, Any]:
    """The entries of `keys.flatten(data)` that a change of the dotted `roots` can alter, in the
    same order: each root's leaves, or the value (or empty section) standing where its section
    would be. No roots, or one root inside another: the whole flattened config."""
    if not roots or any(i != j and (a == b or b.startswith(a + "."))
                        for i, a in enumerate(roots) for j, b in enumerate(roots)):
        return keys.flatten(data)
    parts = [list(_leaves(data, root)) for root in roots]
    if len(parts) == 2 and parts[0] and parts[1] and _later(data, parts[0][0][0], parts[1][0][0]):
        parts.reverse()
    out: dict[str, Any] = {}
    for part in parts:
        for path, value in part:
            out.setdefault(keys.dotted(path), value)
    return out


def _leaves(data: dict, dotted: str) -> Iterator[tuple[keys.Path, Any]]:
    node: Any = data
    path: keys.Path = ()
    for part in keys.split(dotted):
        if path and (not isinstance(node, dict) or not node):
            yield path, node  # a value or an empty section where the key's section would be
            return
        real = keys.match(node, part) if isinstance(node, dict) else MISSING
        if real is MISSING:
            return
        node, path = node[real], path + (real,)
    yield from keys.iter_leaves(node, path)


def _later(data: dict, a: keys.Path, b: keys.Path) -> bool:
    """Whether the leaf at path `a` comes after the one at `b` in the document (two subtrees)."""
    node: Any = data
    for x, y in zip(a, b):
        if x != y:
            return next(k for k in node if k == x or k == y) == y
        node = node[x]
    return False  # one path holds the other: the same leaf
