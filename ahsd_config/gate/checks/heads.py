"""The `single-head` check (AHSD606): every parent exists, no cycle, exactly one head."""

from __future__ import annotations

from ahsd_config.gate import chain
from ahsd_config.gate.context import GateRun
from ahsd_config.gate.result import HEADS


def drop_orphans(run: GateRun, located: dict[str, chain.Located]) -> None:
    """Drop revisions whose parents do not exist (and their descendants), each with a finding."""
    while True:
        orphans = [loc for loc in located.values() if any(p not in located for p in loc.revision.parents)]
        if not orphans:
            return
        for loc in orphans:
            missing = [p for p in loc.revision.parents if p not in located]
            run.add("single-head", loc.path, HEADS, f"revision {loc.id} names parent {', '.join(missing)}, "
                    "which does not exist", line=loc.id_position[0], key="parents",
                    hint="fix `parents:` to name an existing revision (`ahsd-config heads` lists the heads)")
            del located[loc.id]


def check_heads(run: GateRun) -> None:
    """A cycle, or more than one head; on one head, `run.head_revision` is set for the later checks."""
    if run.chain.cycle is not None:
        where = run.chain.located[run.chain.cycle[0]] if run.chain.cycle else None
        run.add("single-head", where.path if where else run.settings.migrations, HEADS,
                f"revision cycle: {' -> '.join(run.chain.cycle)}", key="parents",
                line=where.id_position[0] if where else 1,
                hint="a revision's parents must be older revisions")
        return
    heads = run.chain.heads()
    if len(heads) == 1:
        run.head_revision = heads[0]
        return
    if not heads:
        return
    # The head the pull request added is where the reviewer should look.
    where = run.chain.located[next((h for h in heads if h in run.added), heads[-1])]
    run.add("single-head", where.path, HEADS,
            f"the revision chain has {len(heads)} heads after this pull request: {', '.join(heads)}",
            line=where.id_position[0], key="parents",
            hint=f"join them with `ahsd-config merge {' '.join(heads[:2])} -m \"merge\"`, or rebase "
                 f"one revision onto the other by changing its `parents:`")
