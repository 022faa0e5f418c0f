"""The `rationale` check (AHSD603): every change of an added revision says why."""

from __future__ import annotations

from ahsd_config.gate import chain
from ahsd_config.gate.context import GateRun
from ahsd_config.gate.result import PLACEHOLDER


def check_rationales(run: GateRun) -> None:
    for rid in run.added:
        loc = run.chain.located[rid]
        for i, change in enumerate(loc.revision.changes):
            written = loc.written_rationales[i]
            if not chain.is_placeholder(written):
                continue
            said = f"the placeholder rationale {written.strip()!r}" if written.strip() else "no rationale"
            line, col = loc.rationale_positions[i] or loc.change_positions[i]
            what = change.key or f"transform {change.name}"
            run.add("rationale", loc.path, PLACEHOLDER, f"revision {rid} changes {what} with {said}",
                    key=change.key, line=line, column=col,
                    hint="write why the value changes (what broke, what the new value fixes) in `rationale:`")
