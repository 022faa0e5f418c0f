"""The gate's view of the revision chain: parse revisions read from git, walk the graph, apply/revert.

An adapter: the gate reads revision files at git refs (text, not a directory), so it needs the
chain as *data from text*. Everything here is the small surface the gate uses; where
`ahsd_config.migrate` provides the same thing the adapter defers to it.

A revision file (`migrations/v16.yaml`):

    id: v16
    parents: [v15]
    date: 2026-07-08
    title: larger batches for the 8-GPU node
    changes:
      - op: set            # set | add | remove | rename | transform
        key: priority_net.batch_size
        old: 64
        new: 128
        rationale: per-replica batch stays 16 with world_size 8
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from ahsd_config.errors import InputError
from ahsd_config.loader import KeyPath, format_key, load_text, make_yaml, parse_key, to_plain

OPS = ("set", "add", "remove", "rename", "transform")
PLACEHOLDER_PREFIXES = ("todo", "tbd", "fixme", "xxx", "explain why", "<")
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<absent>"})()
"""The value of a key that does not exist (an added key's old value, a removed key's new one)."""


@dataclass(frozen=True)
class Change:
    """One change of a revision; `line` is where it starts in the revision file (1-based)."""

    op: str
    key: str
    old: Any = MISSING
    new: Any = MISSING
    to: str | None = None
    rationale: str = ""
    line: int = 1
    rationale_line: int = 1
    rationale_column: int = 1
    raw: Any = field(default=None, compare=False, repr=False)  # round-trip values: number style kept


@dataclass(frozen=True)
class Revision:
    id: str
    parents: tuple[str, ...]
    title: str
    date: str
    changes: tuple[Change, ...]
    path: str = ""
    id_line: int = 1


def is_placeholder(rationale: str) -> bool:
    """Empty, or the placeholder `ahsd-config revision` writes (`TODO: explain why`), or alike."""
    text = " ".join(str(rationale or "").split()).lower()
    return not text or text.startswith(PLACEHOLDER_PREFIXES)


def parse_revision(text: str, path: str) -> Revision:
    """A revision file's text -> Revision; malformed files raise InputError naming file:line:col."""
    doc = load_text(text, path)
    data = doc.data

    def fail(where: KeyPath, message: str) -> InputError:
        line, col = doc.position(where)
        return InputError(path, message, line, col)

    rid = data.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise fail(("id",), "a revision needs `id:` (a short name such as v16)")
    parents = data.get("parents", data.get("parent"))
    parents = [] if parents is None else [parents] if isinstance(parents, str) else parents
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise fail(("parents",), "`parents:` must be a list of revision ids")
    changes_data = data.get("changes") or []
    if not isinstance(changes_data, list):
        raise fail(("changes",), "`changes:` must be a list of changes")
    changes = []
    for i, item in enumerate(changes_data):
        if isinstance(item, dict) and item.get("op") == "transform":
            item_key = str((item.get("args") or {}).get("key", ""))  # a transform's key is an argument
        elif not isinstance(item, dict) or item.get("op") not in OPS or not isinstance(item.get("key"), str):
            raise fail(("changes", i), f"change {i + 1} needs `op:` (one of {', '.join(OPS)}) and `key:`")
        else:
            item_key = item["key"]
        new = item.get("new", item.get("value", MISSING))
        old = item.get("old", MISSING)
        changes.append(Change(
            op=item["op"], key=item_key, old=to_plain(old) if old is not MISSING else MISSING,
            new=to_plain(new) if new is not MISSING else MISSING, to=item.get("to"),
            rationale=str(item.get("rationale") or ""), line=doc.position(("changes", i))[0],
            rationale_line=doc.position(("changes", i, "rationale"))[0],
            rationale_column=doc.position(("changes", i, "rationale"))[1], raw=item,
        ))
    return Revision(id=rid, parents=tuple(parents), title=str(data.get("title") or ""),
                    date=str(data.get("date") or ""), changes=tuple(changes), path=path,
                    id_line=doc.position(("id",))[0])


# ---------------------------------------------------------------------------------------- graph


def heads(revisions: dict[str, Revision]) -> list[str]:
    """Revisions no other revision names as a parent, sorted."""
    parents = {p for r in revisions.values() for p in r.parents}
    return sorted(rid for rid in revisions if rid not in parents)


def ancestors(revisions: dict[str, Revision], rid: str) -> set[str]:
    """`rid` and every revision it descends from (missing parents are skipped)."""
    seen: set[str] = set()
    stack = [rid]
    while stack:
        current = stack.pop()
        if current in seen or current not in revisions:
            continue
        seen.add(current)
        stack.extend(revisions[current].parents)
    return seen


def path_between(revisions: dict[str, Revision], start: str | None, end: str) -> list[Revision]:
    """The revisions that take a config from `start` (exclusive) to `end`, parents first."""
    wanted = ancestors(revisions, end) - (ancestors(revisions, start) if start else set())
    return [revisions[rid] for rid in topological(revisions) if rid in wanted]


def topological(revisions: dict[str, Revision]) -> list[str]:
    """Every id, parents before children; ties by id so the order is stable."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(rid: str) -> None:
        if state.get(rid) == 2 or rid not in revisions:
            return
        if state.get(rid) == 1:
            return  # a cycle: reported elsewhere; do not loop
        state[rid] = 1
        for parent in sorted(revisions[rid].parents):
            visit(parent)
        state[rid] = 2
        order.append(rid)

    for rid in sorted(revisions):
        visit(rid)
    return order


# ------------------------------------------------------------------------- apply/revert on data


def flatten(data: Any, prefix: KeyPath = ()) -> dict[str, Any]:
    """Mappings -> {dotted key: leaf value}; lists are leaves (a list is one value in a config)."""
    if isinstance(data, dict) and (data or not prefix):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, prefix + (key,)))
        return out
    return {format_key(prefix): to_plain(data)}


def under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".") or key.startswith(prefix + "[")


def _replace(state: dict[str, Any], prefix: str, value: Any) -> None:
    for k in [k for k in state if under(k, prefix)]:
        del state[k]
    if value is not MISSING:
        state.update(flatten(value, parse_key(prefix)))


def step_flat(state: dict[str, Any], change: Change, head_state: dict[str, Any]) -> None:
    """Apply one change to a flat {key: value} state (lenient: a mismatched old value still moves on).

    A transform is opaque to the gate: it explains whatever its key holds at head.
    """
    if change.op in ("set", "add"):
        _replace(state, change.key, change.new)
    elif change.op == "remove":
        _replace(state, change.key, MISSING)
    elif change.op == "rename" and change.to:
        moved = {k[len(change.key):]: v for k, v in state.items() if under(k, change.key)}
        _replace(state, change.key, MISSING)
        state.update({change.to + rest: v for rest, v in moved.items()})
    elif change.op == "transform":
        _replace(state, change.key, MISSING)
        state.update({k: v for k, v in head_state.items() if under(k, change.key)})


def touched_keys(change: Change) -> list[str]:
    return [change.key] + ([change.to] if change.op == "rename" and change.to else [])


# ------------------------------------------------------------------------- apply/revert on text


class Unsupported(Exception):
    """A change the adapter cannot replay on text (a custom transform)."""


def _yaml():
    yaml = make_yaml()
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def _parent(data: Any, key: str, create: bool = False) -> tuple[Any, Any]:
    path = parse_key(key)
    node = data
    for part in path[:-1]:
        if isinstance(node, dict) and part not in node and create:
            from ruamel.yaml.comments import CommentedMap

            node[part] = CommentedMap()
        if not isinstance(node, (dict, list)) or (isinstance(node, dict) and part not in node):
            return None, path[-1]
        node = node[part]
    return node, path[-1]


def _get(data: Any, key: str) -> Any:
    node, last = _parent(data, key)
    if isinstance(node, dict):
        return node.get(last, MISSING)
    return MISSING


def _raw(change: Change, name: str) -> Any:
    """The round-trip value from the revision file, so `3.0e-5` is written as `3.0e-5`."""
    raw = change.raw or {}
    if name == "new":
        return raw.get("new", raw.get("value"))
    return raw.get(name)


def replay(text: str, changes: list[Change], path: str, revert: bool = False) -> tuple[str, list[str]]:
    """Apply (or revert, in reverse order) `changes` to config text; returns (text, conflicts)."""
    data = _yaml().load(text)
    conflicts: list[str] = []
    for change in (reversed(changes) if revert else changes):
        conflict = _replay_one(data, change, revert)
        if conflict:
            conflicts.append(conflict)
    return _dump(data), conflicts


def _replay_one(data: Any, change: Change, revert: bool) -> str | None:
    op, key = change.op, change.key
    if op == "transform":
        raise Unsupported(f"{key}: a transform is checked by the migrations engine only")
    if op == "rename":
        src, dst = (change.to, key) if revert else (key, change.to)
        if not dst:
            return f"{key}: rename without `to:`"
        return _move(data, src, dst)
    expect_key_old, put = {
        ("set", False): (change.old, _raw(change, "new")), ("set", True): (change.new, _raw(change, "old")),
        ("add", False): (MISSING, _raw(change, "new")), ("add", True): (change.new, MISSING),
        ("remove", False): (change.old, MISSING), ("remove", True): (MISSING, _raw(change, "old")),
    }[(op, revert)]
    found = _get(data, key)
    if not _same(found, expect_key_old) and not (op == "remove" and not revert and change.old is MISSING):
        return f"{key}: expected {show(expect_key_old)}, found {show(found)}"
    node, last = _parent(data, key, create=put is not MISSING)
    if put is MISSING:
        if isinstance(node, dict):
            node.pop(last, None)
    elif isinstance(node, dict):
        after = (change.raw or {}).get("after")
        if last not in node and after in node and hasattr(node, "insert"):
            node.insert(list(node).index(after) + 1, last, put)
        else:
            node[last] = put
    else:
        return f"{key}: its section does not exist"
    return None


def _move(data: Any, src: str, dst: str) -> str | None:
    value = _get(data, src)
    if value is MISSING:
        return f"{src}: expected a value to move to {dst}, found none"
    if _get(data, dst) is not MISSING:
        return f"{dst}: already exists, cannot move {src} onto it"
    src_node, src_last = _parent(data, src)
    dst_node, dst_last = _parent(data, dst, create=True)
    if src_node is dst_node and hasattr(src_node, "insert"):
        position = list(src_node).index(src_last)
        src_node.insert(position, dst_last, value)
        del src_node[src_last]
    else:
        del src_node[src_last]
        dst_node[dst_last] = value
    return None


def _same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return to_plain(a) == to_plain(b)


def show(value: Any) -> str:
    """A value as the messages print it: YAML-ish scalars, `<absent>` for a missing key."""
    if value is MISSING:
        return "<absent>"
    value = to_plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value) if value == "" or value.strip() != value else value
    return str(value)


def synthetic_parent(revision: Revision) -> str:
    """A minimal config holding the values a revision expects to find: its parent state in miniature."""
    from ruamel.yaml.comments import CommentedMap

    data = CommentedMap()
    for change in revision.changes:
        if change.op in ("set", "remove") and change.old is not MISSING:
            node, last = _parent(data, change.key, create=True)
            if isinstance(node, dict) and last not in node:
                node[last] = _raw(change, "old")
        elif change.op == "rename":
            node, last = _parent(data, change.key, create=True)
            if isinstance(node, dict) and last not in node:
                node[last] = 0
    return _dump(data) if data else "{}\n"
