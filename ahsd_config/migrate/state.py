"""Revision changes on plain data: one direction-aware primitive per change, conflict detection,
and the full config state of a revision (base state {} + every ancestor's changes, in order).

Both the plain layer (states, diff, log) and the round-trip layer (apply.py) go through
`primitive()`, so "what a step expects and what it writes" is defined once.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Iterable

from ahsd_config.values import MISSING

from . import keys, transforms
from .errors import Conflict
from .model import Change, Revision


@dataclass(frozen=True)
class Prim:
    """A change as applied in one direction: `kind` is set | add | remove | move | transform."""

    kind: str
    key: str = ""
    expect: Any = MISSING  # the value the file should hold before (MISSING = absent)
    want: Any = MISSING  # the value the file holds after (MISSING = absent)
    to: str = ""
    after: str | None = None
    name: str = ""
    args: dict | None = None
    down: bool = False
    rationale: str = ""


def primitive(change: Change, down: bool = False) -> Prim:
    c = change
    r = c.rationale
    if c.op == "set":
        return Prim("set", c.key, c.new, c.old, rationale=r) if down else Prim("set", c.key, c.old, c.new, rationale=r)
    if c.op == "add":
        if down:
            return Prim("remove", c.key, c.value, MISSING, rationale=r)
        return Prim("add", c.key, MISSING, c.value, after=c.after, rationale=r)
    if c.op == "remove":
        if down:
            return Prim("add", c.key, MISSING, c.old, after=c.after, rationale=r)
        return Prim("remove", c.key, c.old, MISSING, rationale=r)
    if c.op == "rename":
        if down:
            return Prim("move", c.to, to=c.key, after=c.was_after, rationale=r)
        return Prim("move", c.key, to=c.to, after=c.after, rationale=r)
    return Prim("transform", name=c.name, args=dict(c.args), down=down, rationale=r)


def implicit_keys(revisions: Iterable[Revision]) -> frozenset[str]:
    """Keys some revision added with `implicit: true` (their value lived in code before)."""
    return frozenset(c.key for r in revisions for c in r.changes if c.op == "add" and c.implicit)


def check(data: Any, p: Prim, revision: str, implicit: frozenset[str] = frozenset()) -> Conflict | None:
    """The conflict `p` meets on `data`, or None. An implicit key that is absent never conflicts."""
    if p.kind == "transform":
        return None
    found = keys.get(data, p.key)
    if found is MISSING and p.key in implicit:
        return None
    if p.kind == "move":
        if found is MISSING:
            return Conflict(revision, p.key, "(present)", MISSING, f"moved to {p.to}")
        if keys.get(data, p.to) is not MISSING:
            return Conflict(revision, p.to, MISSING, keys.get(data, p.to), f"{p.key} moved here")
        return None
    if keys.same(found, p.expect) or keys.same(found, p.want):
        return None  # as expected, or already done (an idempotent re-run is not a conflict)
    return Conflict(revision, p.key, p.expect, found, p.want)


def apply_plain(data: dict, p: Prim, implicit: frozenset[str] = frozenset()) -> dict:
    """Apply `p` to plain nested dicts in place ("take" semantics: the step's value wins)."""
    if p.kind == "transform":
        return transforms.run(p.name, data, p.args or {}, down=p.down)
    keys.require_sections(data, p.key)
    if p.kind == "move":
        keys.require_sections(data, p.to)
    found = keys.get(data, p.key)
    if found is MISSING and p.key in implicit and p.kind != "add":
        return data
    if p.kind == "move":
        if found is MISSING:
            return data
        parent, key = keys.resolve(data, p.key)
        value = parent.pop(key)
        _insert(data, p.to, value, p.after)
        return data
    if p.want is MISSING:
        if found is not MISSING:
            parent, key = keys.resolve(data, p.key)
            del parent[key]
            _prune(data, p.key)
        return data
    if found is MISSING:
        _insert(data, p.key, copy.deepcopy(p.want), p.after)
    else:
        parent, key = keys.resolve(data, p.key)
        parent[key] = copy.deepcopy(p.want)
    return data


def _insert(data: dict, dotted: str, value: Any, after: str | None) -> None:
    parts = keys.split(dotted)
    node = data
    for part in parts[:-1]:
        real = keys.match(node, part)
        if real is MISSING:
            node[part] = {}
            real = part
        node = node[real]
    name = parts[-1]
    name = int(name) if name.isdigit() and any(isinstance(k, int) for k in node) else name
    items = list(node.items())
    pos = len(items)
    if after is not None:
        real = keys.match(node, after)
        if real is not MISSING:
            pos = [k for k, _ in items].index(real) + 1
    items.insert(pos, (name, value))
    node.clear()
    node.update(items)


def _prune(data: dict, dotted: str) -> None:
    """Drop sections left empty by a removal (a section exists only while it holds keys)."""
    parts = keys.split(dotted)[:-1]
    while parts:
        found = keys.resolve(data, ".".join(parts))
        if found is None:
            return
        parent, key = found
        if key in parent and parent[key] == {}:
            del parent[key]
        else:
            return
        parts = parts[:-1]


def apply_revision_plain(data: dict, rev: Revision, down: bool = False,
                         implicit: frozenset[str] = frozenset()) -> dict:
    changes = reversed(rev.changes) if down else rev.changes
    for change in changes:
        data = apply_plain(data, primitive(change, down), implicit)
    return data
