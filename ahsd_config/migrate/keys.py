"""Dotted keys over nested mappings: resolve, read, flatten. Shared by the plain and round-trip layers."""

from __future__ import annotations

from typing import Any, Iterator

from ahsd_config.values import MISSING

Path = tuple[Any, ...]


def split(dotted: str) -> list[str]:
    return dotted.split(".")


def resolve(data: Any, dotted: str) -> tuple[Any, Any] | None:
    """(parent mapping, actual key) for `dotted`, or None when a parent section is missing.

    Segments made of digits also match integer keys (`per_param_tail_bounds.2` -> key 2).
    The last segment need not exist (that is how `add` finds where to write).
    """
    parts = split(dotted)
    node = data
    for part in parts[:-1]:
        if not isinstance(node, dict):
            return None
        real = match(node, part)
        if real is MISSING or not isinstance(node[real], dict):
            return None
        node = node[real]
    if not isinstance(node, dict):
        return None
    real = match(node, parts[-1])
    return node, (parts[-1] if real is MISSING else real)


def require_sections(data: Any, dotted: str, revision: str = "") -> None:
    """Raise RevisionApplyError when a section on the way to `dotted` holds a value instead of
    keys (writing `a.b.c` where `a.b: 3`); a missing section is fine (it will be created)."""
    from .errors import RevisionApplyError

    node, walked = data, []
    for part in split(dotted)[:-1]:
        real = match(node, part)
        walked.append(part)
        if real is MISSING:
            return
        node = node[real]
        if not isinstance(node, dict):
            who = f"revision {revision}: " if revision else ""
            raise RevisionApplyError(f"{who}cannot write {dotted}: {'.'.join(walked)} holds {node!r:.60}, "
                                     "not a section of keys")


def match(mapping: dict, part: str) -> Any:
    if part in mapping:
        return part
    if part.lstrip("-").isdigit() and int(part) in mapping:
        return int(part)
    return MISSING


def get(data: Any, dotted: str) -> Any:
    found = resolve(data, dotted)
    if found is None:
        return MISSING
    parent, key = found
    return parent[key] if key in parent else MISSING


def dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)


def flatten(data: Any, prefix: Path = ()) -> dict[str, Any]:
    """Leaves of nested mappings as {dotted key: value}; lists and empty mappings are leaves."""
    return {dotted(p): v for p, v in iter_leaves(data, prefix)}


def iter_leaves(data: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    if isinstance(data, dict) and (data or not prefix):
        for k, v in data.items():
            yield from iter_leaves(v, prefix + (k,))
    else:
        yield prefix, data


def same(a: Any, b: Any) -> bool:
    """Value equality as a config reader sees it: 2 == 2.0, but true != 1 and absent != null."""
    if a is MISSING or b is MISSING:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b or (isinstance(a, str) and isinstance(b, str) and str(a) == str(b))
