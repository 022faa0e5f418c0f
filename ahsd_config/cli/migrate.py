"""`ahsd-config` commands of the migrate room (see cli.py): parse -> library -> render -> exit."""

from __future__ import annotations

import json
from typing import Optional

import typer

from ahsd_config.cli.app import app, reports_errors, stdout
from ahsd_config.errors import UsageError


def _lib():
    from ahsd_config.api import migrations as commands  # imported late: `ahsd-config --help` stays fast

    return commands


def _show(value) -> str:
    from ahsd_config.migrate.errors import show_value

    return show_value(value)


@app.command()
@reports_errors
def migrate(
    file: str = typer.Argument(..., metavar="FILE", help="Config file to migrate."),
    to: str = typer.Option("head", "--to", metavar="REV", help="Target revision id, or head."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print a unified diff; write nothing."),
    on_conflict: Optional[str] = typer.Option(
        None, "--on-conflict", metavar="keep|take",
        help="When FILE's value differs from what a step expects (a hand edit): keep FILE's value, or "
             "take the revision's new value. Without it, conflicts are listed and nothing is written (exit 1)."),
) -> None:
    """Move FILE up or down the revision chain (atomic, FILE.bak keeps the previous content)."""
    result = _lib().migrate(file, to, on_conflict=on_conflict, dry_run=dry_run)
    p = result.plan
    for c in p.result.conflicts:
        stdout.print(f"conflict ({on_conflict}): {c.describe()}", markup=False)
    if dry_run:
        stdout.print(p.diff or f"{file} is at {p.target} already; nothing to change", markup=False, end="")
        return
    how = " (inferred: exact match)" if p.inferred else ""
    verb = "migrated" if result.written else "unchanged"
    stdout.print(f"{file}: {verb} {p.source}{how} -> {p.target}, {len(p.steps)} step(s)", markup=False)


@app.command()
@reports_errors
def stamp(file: str = typer.Argument(..., metavar="FILE", help="Config file to stamp."),
          revision: str = typer.Argument(..., metavar="REV", help="Revision id (or head) to record.")) -> None:
    """Record REV in FILE's top-level `revision:` key without changing anything else."""
    rid = _lib().stamp(file, revision)
    stdout.print(f"{file}: stamped {rid}", markup=False)


@app.command()
@reports_errors
def current(file: str = typer.Argument(..., metavar="FILE", help="Config file.")) -> None:
    """Print FILE's revision: its stamp, or the revision whose state matches it best."""
    inf = _lib().current(file)
    if inf.stamped:
        note = "" if inf.exact else f" ({len(inf.differing)} keys differ from its state: {', '.join(inf.differing[:8])})"
        stdout.print(f"{inf.revision} (stamped){note}", markup=False)
    elif inf.exact:
        stdout.print(f"{inf.revision} (not stamped; exact match)", markup=False)
    else:
        stdout.print(f"{inf.revision} (not stamped; nearest: {len(inf.differing)} keys differ: "
                     f"{', '.join(inf.differing[:8])})", markup=False)


@app.command()
@reports_errors
def heads() -> None:
    """List the head revision(s); more than one needs `ahsd-config merge`."""
    revs = _lib().heads()
    for rev in revs:
        stdout.print(f"{rev.id}  {rev.date[:10]}  {rev.title}", markup=False)
    if len(revs) > 1:
        raise UsageError(f"{len(revs)} heads; join them with `ahsd-config merge {revs[0].id} {revs[1].id} -m TITLE`")


@app.command()
@reports_errors
def history(rng: Optional[str] = typer.Option(None, "-r", "--range", metavar="FROM:TO",
                                             help="After FROM up to TO, e.g. v13:v15 (either side may be empty)."),
            brief: bool = typer.Option(False, "--brief", help="Titles only.")) -> None:
    """The chain oldest first: id, parents, date, title, and every change with its rationale."""
    for rev in _lib().history(rng):
        parents = ", ".join(rev.parents) or "base"
        stdout.print(f"{rev.id}  <- {parents}  {rev.date[:16]}  {rev.title}", markup=False)
        if not brief:
            for c in rev.changes:
                stdout.print(f"    {_describe_change(c)}\n        why: {c.rationale}", markup=False)


def _describe_change(c) -> str:
    if c.op == "set":
        return f"set {c.key}: {_show(c.old)} -> {_show(c.new)}"
    if c.op == "add":
        return f"add {c.key} = {_show(c.value)}"
    if c.op == "remove":
        return f"remove {c.key} (was {_show(c.old)})"
    if c.op == "rename":
        return f"rename {c.key} -> {c.to}"
    return f"transform {c.name} {_show(c.args)}"


@app.command("log")
@reports_errors
def log_key(key: str = typer.Argument(..., metavar="KEY", help="Dotted key, e.g. priority_net.batch_size")) -> None:
    """Every revision that touched KEY: old -> new, date and why (a per-key blame)."""
    steps = _lib().log_key(key)
    if not steps:
        raise UsageError(f"no revision touches {key}")
    for s in steps:
        stdout.print(f"{s.revision:9} {s.date[:10]}  {_show(s.old)} -> {_show(s.new)}\n          why: {s.rationale}", markup=False)


@app.command()
@reports_errors
def show(revision: str = typer.Argument("head", metavar="REV", help="Revision id, or head.")) -> None:
    """Print the full config at REV."""
    stdout.print(_lib().show_text(revision), markup=False, end="")


@app.command()
@reports_errors
def diff(
    a: str = typer.Argument(..., metavar="A", help="Revision (v13, head), file, or GITREV:path (a file at a git commit)."),
    b: str = typer.Argument(..., metavar="B", help="Revision (v15, head), file, or GITREV:path."),
    fmt: str = typer.Option("text", "--format", metavar="text|json|markdown", help="Output format."),
    with_history: bool = typer.Option(False, "--history", help="Also keys that moved and came back."),
) -> None:
    """Per-key changes between A and B; for revisions, every step in between and its rationale."""
    from ahsd_config.render import migrate as render

    if fmt not in ("text", "json", "markdown"):
        raise UsageError(f"--format must be text, json or markdown, not {fmt!r}")
    result = _lib().diff(a, b, history=with_history)
    if fmt == "json":
        stdout.print(json.dumps(result.to_json(), indent=2), markup=False)
    elif fmt == "markdown":
        stdout.print(render.markdown(result), markup=False)
    else:
        hidden = [] if with_history else _lib().returned_keys(a, b) if result.a_revision and result.b_revision else []
        render.text(result, stdout, hidden)


@app.command()
@reports_errors
def squash(start: str = typer.Argument(..., metavar="START", help="First revision of the range."),
           end: str = typer.Argument(..., metavar="END", help="Last revision of the range (the new revision's id)."),
           message: Optional[str] = typer.Option(None, "-m", "--message", metavar="TITLE",
                                                 help="Title of the squashed revision (default: the titles joined by ' + ').")) -> None:
    """Replace revisions START..END by one revision (id END) holding all changes and rationales."""
    rev = _lib().squash(start, end, message)
    stdout.print(f"wrote {rev.path} ({len(rev.changes)} changes)", markup=False)


@app.command("merge")
@reports_errors
def merge_heads(rev1: str = typer.Argument(..., metavar="REV1", help="One head."),
                rev2: str = typer.Argument(..., metavar="REV2", help="The other head."),
                message: str = typer.Option(..., "-m", "--message", metavar="TITLE", help="Title of the merge revision."),
                rev_id: Optional[str] = typer.Option(None, "--id", metavar="ID",
                                                     help="Id of the merge revision (default: merge_REV1_REV2).")) -> None:
    """Join two heads with a merge revision."""
    rev = _lib().merge(rev1, rev2, message, rev_id)
    stdout.print(f"wrote {rev.path}", markup=False)


@app.command()
@reports_errors
def revision(message: str = typer.Option(..., "-m", "--message", metavar="TITLE", help="Title of the new revision."),
             source: str = typer.Option(..., "--from", metavar="FILE", help="Config whose differences to head to record."),
             rev_id: Optional[str] = typer.Option(None, "--id", metavar="ID", help="Revision id (default: v + today's date, e.g. v261129)."),
             stamp: bool = typer.Option(True, "--stamp/--no-stamp",
                                        help="Stamp FILE at the new revision (the new head).")) -> None:
    """Write a new revision from FILE's differences to head, with a placeholder rationale per change."""
    lib = _lib()
    rev = lib.new_revision(message, source, rev_id)
    stdout.print(f"wrote {rev.path} ({len(rev.changes)} changes); replace each "
                 f"'TODO: explain why' with the reason before committing", markup=False)
    if stamp:
        stdout.print(f"{source}: stamped {lib.stamp(source, rev.id)} (validate refuses it, AHSD402, "
                     f"until the rationales are written)", markup=False)
