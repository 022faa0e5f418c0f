"""The revision graph as pure logic, testable from an in-memory list (Alembic's RevisionMap shape).

    rmap = RevisionMap(lambda: [Revision("a", (), ...), Revision("b", ("a",), ...)])
    rmap.heads            # ['b']
    rmap.path("a", "b")   # [Step(b, up)]

Ordering is topological with ties broken by (date, id), so a linear chain reads oldest first.
"""

from __future__ import annotations

import copy
import heapq
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Iterator

from .errors import CycleDetected, MultipleHeads, RevisionGraphError, UnknownRevision
from .model import Revision, is_placeholder
from .state import apply_revision_plain, implicit_keys


@dataclass(frozen=True)
class Step:
    revision: Revision
    down: bool

    @property
    def direction(self) -> str:
        return "down" if self.down else "up"


class RevisionMap:
    def __init__(self, source: Callable[[], Iterable[Revision]] | Iterable[Revision]) -> None:
        self._source = source
        self._states: dict[str, dict] = {}

    @cached_property
    def by_id(self) -> dict[str, Revision]:
        revs = list(self._source() if callable(self._source) else self._source)
        out: dict[str, Revision] = {}
        for rev in revs:
            if rev.id in out:
                raise RevisionGraphError(
                    f"revision id {rev.id!r} is used twice ({out[rev.id].path} and {rev.path}); ids are permanent and unique"
                )
            out[rev.id] = rev
        for rev in revs:
            for parent in rev.parents:
                if parent not in out:
                    raise RevisionGraphError(f"revision {rev.id} names parent {parent!r}, which does not exist")
        _check_cycles(out)
        return out

    @cached_property
    def order(self) -> list[str]:
        """All ids, parents before children; ties by (date, id)."""
        return self._topo(set(self.by_id))

    @cached_property
    def implicit(self) -> frozenset[str]:
        return implicit_keys(self.by_id.values())

    @property
    def heads(self) -> list[str]:
        used = {p for r in self.by_id.values() for p in r.parents}
        return [rid for rid in self.order if rid not in used]

    @property
    def bases(self) -> list[str]:
        return [rid for rid in self.order if not self.by_id[rid].parents]

    @property
    def head(self) -> str:
        heads = self.heads
        if len(heads) != 1:
            if not heads:
                raise RevisionGraphError("there are no revisions; `ahsd-config revision -m TITLE --from FILE` writes the first")
            raise MultipleHeads(heads)
        return heads[0]

    def __contains__(self, rid: str) -> bool:
        return rid in self.by_id

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, rid: str) -> Revision:
        try:
            return self.by_id[rid]
        except KeyError:
            raise UnknownRevision(rid, self.order) from None

    def resolve(self, spec: str) -> str:
        """'head' | 'base' | an id -> an id."""
        if spec == "head":
            return self.head
        if spec == "base":
            bases = self.bases
            if len(bases) != 1:
                raise RevisionGraphError(f"the graph has {len(bases)} bases ({', '.join(bases)}); name one")
            return bases[0]
        self.get(spec)
        return spec

    def ancestors(self, rid: str, inclusive: bool = True) -> set[str]:
        seen: set[str] = set()
        todo = [rid] if inclusive else list(self.get(rid).parents)
        while todo:
            cur = todo.pop()
            if cur not in seen:
                seen.add(cur)
                todo.extend(self.get(cur).parents)
        return seen

    def descendants(self, rid: str) -> set[str]:
        return {r for r in self.by_id if rid in self.ancestors(r, inclusive=False)}

    def path(self, start: str | None, end: str) -> list[Step]:
        """Steps from `start` (None = empty config) to `end`: down out of start's line, then up."""
        end = self.resolve(end)
        have = self.ancestors(self.resolve(start)) if start is not None else set()
        want = self.ancestors(end)
        downs = [Step(self.by_id[r], True) for r in reversed(self._topo(have - want))]
        ups = [Step(self.by_id[r], False) for r in self._topo(want - have)]
        return downs + ups

    def range(self, spec: str) -> list[str]:
        """'v13:v15' -> ids after v13 up to and including v15 (Alembic's exclusive start)."""
        start, _, end = spec.partition(":")
        end_id = self.resolve(end or "head")
        want = self.ancestors(end_id)
        if start:
            want -= self.ancestors(self.resolve(start))
        return self._topo(want)

    def placeholder_changes(self, revisions: list[str] | None = None) -> list[tuple[str, int, str]]:
        """(revision id, 1-based change index, key) of every change whose rationale is still the
        placeholder, in `revisions` (default: the whole chain, oldest first)."""
        out = []
        for rid in revisions or self.order:
            for i, c in enumerate(self.get(rid).changes, 1):
                if is_placeholder(c.rationale):
                    out.append((rid, i, c.key or c.name))
        return out

    def state(self, rid: str) -> dict:
        """The full plain config at revision `rid` (a fresh copy each call).

        Computed iteratively down the first-parent line from the nearest known state, so a chain
        of any length needs no recursion."""
        rid = self.resolve(rid)
        line, cur = [], rid
        while cur is not None and cur not in self._states:
            line.append(cur)
            parents = self.by_id[cur].parents
            cur = parents[0] if parents else None
        for r in reversed(line):
            rev = self.by_id[r]
            if rev.parents:
                data = copy.deepcopy(self._states[rev.parents[0]])
                for other in rev.parents[1:]:  # a merge: bring in what the other line added
                    for step in self.path(rev.parents[0], other):
                        if not step.down:
                            data = apply_revision_plain(data, step.revision, False, self.implicit)
            else:
                data = {}
            self._states[r] = apply_revision_plain(data, rev, False, frozenset())
        return copy.deepcopy(self._states[rid])

    def _topo(self, ids: set[str]) -> list[str]:
        """Kahn's algorithm, the ready revision with the smallest (date, id) first: O(n log n)."""
        by_id = self.by_id
        waiting = {r: sum(1 for p in set(by_id[r].parents) if p in ids) for r in ids}
        children: dict[str, list[str]] = {}
        for r in ids:
            for p in set(by_id[r].parents):
                if p in ids:
                    children.setdefault(p, []).append(r)
        ready = [(by_id[r].date, r) for r, n in waiting.items() if n == 0]
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            _, first = heapq.heappop(ready)
            out.append(first)
            for child in children.get(first, ()):
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, (by_id[child].date, child))
        if len(out) != len(ids):  # unreachable after _check_cycles
            raise CycleDetected(sorted(set(ids) - set(out)))
        return out


def _check_cycles(by_id: dict[str, Revision]) -> None:
    """Depth-first with an explicit stack (a 1,000-revision line must not hit Python's recursion limit)."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in sorted(by_id):
        if root in state:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(by_id[root].parents))]
        path = [root]
        state[root] = 1
        while stack:
            rid, parents = stack[-1]
            parent = next(parents, None)
            if parent is None:
                stack.pop()
                path.pop()
                state[rid] = 2
            elif state.get(parent) == 1:
                raise CycleDetected(path[path.index(parent):] + [parent])
            elif parent not in state:
                state[parent] = 1
                path.append(parent)
                stack.append((parent, iter(by_id[parent].parents)))
