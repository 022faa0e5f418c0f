"""The `history` check: revision files read (AHSD609), landed revisions left as they are (AHSD607)."""

from __future__ import annotations

from ahsd_config.errors import InputError
from ahsd_config.gate import chain
from ahsd_config.gate.checks.heads import drop_orphans
from ahsd_config.gate.context import GateRun
from ahsd_config.gate.result import BAD_REVISION, EDITED


def load_revisions(run: GateRun) -> None:
    """Read every revision file at head once; unreadable, malformed and duplicate ones are findings."""
    located: dict[str, chain.Located] = {}
    paths = [p for p in run.git.list_files(run.head, run.settings.migrations) if run.settings.is_revision(p)]
    for path, text in run.git.show_many(run.head, paths).items():
        loc = _located(run, path, text or "")
        if loc is None:
            continue
        if loc.id in located:
            run.add("history", path, BAD_REVISION, f"revision id {loc.id} is used by {located[loc.id].path} too",
                    line=loc.id_position[0], hint="give the newer revision an id of its own")
            continue
        located[loc.id] = loc
    drop_orphans(run, located)
    run.chain = chain.Chain(located)
    added_paths = {c.path for c in run.revision_paths if c.status in "AR"}
    run.added = [rid for rid in run.chain.order() if located[rid].path in added_paths]


def _located(run: GateRun, path: str, text: str) -> chain.Located | None:
    try:
        return chain.parse(text, path)
    except InputError as exc:
        run.add("history", path, BAD_REVISION, f"revision file cannot be read: {exc.message}",
                line=exc.position.line, column=exc.position.column)
    except chain.RevisionFormatError as exc:
        line, col = chain.format_error_position(text, path, exc)
        run.add("history", path, BAD_REVISION, f"malformed revision: {exc.message}", line=line, column=col)
    return None


def check_history(run: GateRun) -> None:
    """A landed revision the pull request edits (error) or deletes (warning)."""
    for c in run.revision_paths:
        if c.status == "M" or (c.status == "R" and run.git.show(run.mb, c.old_path or "") != run.git.show(run.head, c.path)):
            run.add("history", c.path, EDITED, f"{c.path} is a landed revision and was edited",
                    hint="revisions are never edited after they land: revert this edit and "
                         "record the change in a new revision (`ahsd-config revision -m ... --from FILE`)")
        elif c.status == "D":
            run.add("history", c.path, EDITED, f"{c.path} is a landed revision and was deleted; configs "
                    "stamped with it can no longer migrate", severity="warning",
                    hint="keep it, or replace a range with `ahsd-config squash FROM TO`")
