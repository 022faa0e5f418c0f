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
    by_name = _Index(added, lambda dotted: dotted.rsplit(".", 1)[-1])
    by_section = _Index(added, lambda dotted: dotted.rpartition(".")[0])
    renamed: set[int] = set()  # positions in `removed` / `added` that became renames
    taken: set[int] = set()
    for i, r in enumerate(removed):
        matches = by_name.matches(r, taken)
        if not matches and renames:
            matches = by_section.matches(r, taken)
        if len(matches) == 1 and _rename_worthy(r[1]):
            j = matches[0]
            x = added[j]
            renamed.add(i)
            taken.add(j)
            same_section = x[0].rpartition(".")[0] == r[0].rpartition(".")[0]
            found.append(Change("rename", rationale, key=r[0], to=x[0],
                                  after=None if same_section else x[2], was_after=None if same_section else r[2]))
    removed = [r for i, r in enumerate(removed) if i not in renamed]
    added = [x for j, x in enumerate(added) if j not in taken]
    out = [Change("remove", rationale, key=k, old=v, after=after) for k, v, after in reversed(removed)]
    out += found + sets
    out += [Change("add", rationale, key=k, value=v, after=after) for k, v, after in added]
    return out


class _Index:
    """The added keys by (name part, value), so matching each removed key costs its few
    candidates, not a pass over every added key (a file with 20,000 new keys)."""

    def __init__(self, added: list[tuple[str, Any, str | None]], part) -> None:
        self.part = part
        self.buckets: dict[Any, list[int]] = {}
        for j, (dotted, value, _) in enumerate(added):
            self.buckets.setdefault((part(dotted), _canonical(value)), []).append(j)
        self.added = added

    def matches(self, r: tuple[str, Any, str | None], taken: set[int]) -> list[int]:
        """Positions of the added keys not yet taken whose part and value match `r`, in order."""
        bucket = self.buckets.get((self.part(r[0]), _canonical(r[1])), ())
        return [j for j in bucket if j not in taken and keys.same(self.added[j][1], r[1])]


def _canonical(value: Any) -> Any:
    """A hashable stand-in that two values `keys.same` calls equal always share (2 and 2.0 do;
    true and 1 do not). Unhashable leftovers share one bucket, compared one by one."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value) if value == value else ("nan",)  # 2 == 2.0 and hash(2) == hash(2.0)
    if isinstance(value, str):
        return ("s", str(value))
    if isinstance(value, dict):
        return ("d", frozenset(value.keys()))  # `same` compares mappings' keys as sets
    if isinstance(value, (list, tuple)):
        return ("l", len(value))
    return ("?",)


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
