"""The ONE replay-and-record walk: apply steps to plain data change by change, and record, per
dotted key, every change that moved it (revision, date, old -> new, rationale, direction).

`diff` (the steps between two revisions), `log` (every revision that touched a key, from the
empty config) and the CI gate's `recorded` check (the revisions between a config's base and head)
all read their per-key history from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

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
    expected old value differs); returns the end state and, per key, the records in order."""
    records: dict[str, list[StepRecord]] = {}
    for step in steps:
        rev = step.revision
        for change in (reversed(rev.changes) if step.down else rev.changes):
            before = keys.flatten(data)
            data = apply_plain(data, primitive(change, step.down), implicit)
            after = keys.flatten(data)
            for key in list(before) + [k for k in after if k not in before]:
                old, new = before.get(key, MISSING), after.get(key, MISSING)
                if not keys.same(old, new):
                    records.setdefault(key, []).append(
                        StepRecord(rev.id, rev.date, old, new, change.rationale, step.down))
    return data, records
