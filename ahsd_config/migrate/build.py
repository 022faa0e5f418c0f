"""Changes that turn one plain config into another (for `revision --from FILE` and the chain tools).

Whole sections that appear or vanish become one `add`/`remove`; a key that vanished in one place
and appeared with the same value in another becomes a `rename` (a move, when the sections differ);
everything else is a `set`. Each change gets `rationale` (the placeholder until a human writes it).
"""

from __future__ import annotations

from typing import Any

from . import keys
from .model import PLACEHOLDER, Change


def changes_between(a: dict, b: dict, rationale: str = PLACEHOLDER, renames: bool = True) -> list[Change]:
    """`renames=False` only detects moves (same key name, another section)."""
    removed: list[tuple[str, Any, str | None]] = []
    added: list[tuple[str, Any, str | None]] = []
    sets: list[Change] = []
    _walk(a, b, (), removed, added, sets, rationale)
    found: list[Change] = []
    for r in list(removed):
        matches = [x for x in added if keys.same(x[1], r[1]) and x[0].rsplit(".", 1)[-1] == r[0].rsplit(".", 1)[-1]]
        if not matches and renames:
            matches = [x for x in added if keys.same(x[1], r[1]) and x[0].rpartition(".")[0] == r[0].rpartition(".")[0]]
        if len(matches) == 1 and _rename_worthy(r[1]):
            x = matches[0]
            removed.remove(r)
            added.remove(x)
            same_section = x[0].rpartition(".")[0] == r[0].rpartition(".")[0]
            found.append(Change("rename", rationale, key=r[0], to=x[0],
                                  after=None if same_section else x[2], was_after=None if same_section else r[2]))
    out = [Change("remove", rationale, key=k, old=v, after=after) for k, v, after in reversed(removed)]
    out += found + sets
    out += [Change("add", rationale, key=k, value=v, after=after) for k, v, after in added]
    return out


def _rename_worthy(value: Any) -> bool:
    """Booleans and tiny ints match by accident too often to call a remove+add a rename."""
    return not isinstance(value, bool) and not (isinstance(value, int) and abs(value) < 2)


def _walk(a: dict, b: dict, prefix: tuple, removed: list, added: list, sets: list, rationale: str) -> None:
    a_order, b_order = list(a.keys()), list(b.keys())
    for i, k in enumerate(a_order):
        if k not in b:
            removed.append((keys.dotted(prefix + (k,)), a[k], str(a_order[i - 1]) if i else None))
    for i, k in enumerate(b_order):
        dotted = keys.dotted(prefix + (k,))
        if k not in a:
            added.append((dotted, b[k], str(b_order[i - 1]) if i else None))
        elif isinstance(a[k], dict) and isinstance(b[k], dict) and a[k] and b[k]:
            _walk(a[k], b[k], prefix + (k,), removed, added, sets, rationale)
        elif not keys.same(a[k], b[k]):
            sets.append(Change("set", rationale, key=dotted, old=a[k], new=b[k]))
