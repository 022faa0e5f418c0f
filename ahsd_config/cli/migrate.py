"""`ahsd-config` commands of the migrate room: parse -> library -> render (`render/migrate.py`) -> exit."""

from __future__ import annotations

from typing import Optional

import typer

from ahsd_config.cli.shell import reports_errors, stdout, write_output
from ahsd_config.errors import UsageError


def _lib():
    from ahsd_config.api import migrations as commands  # imported late: `ahsd-config --help` stays fast

    return commands


def _render():
    from ahsd_config.render import migrate as render

    return render


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
    for line in _render().conflict_lines(result.plan, on_conflict):
        stdout.print(line, markup=False)
    if dry_run:
        write_output(_render().dry_run_text(file, result.plan), None)  # a unified diff, as it is
        return
    stdout.print(_render().migrated_line(file, result), markup=False)


@reports_errors
def stamp(file: str = typer.Argument(..., metavar="FILE", help="Config file to stamp."),
          revision: str = typer.Argument(..., metavar="REV", help="Revision id (or head) to record.")) -> None:
    """Record REV in FILE's top-level `revision:` key without changing anything else."""
    rid = _lib().stamp(file, revision)
    stdout.print(f"{file}: stamped {rid}", markup=False)


@reports_errors
def current(file: str = typer.Argument(..., metavar="FILE", help="Config file.")) -> None:
    """Print FILE's revision: its stamp, or the revision whose state matches it best."""
    stdout.print(_render().current_line(_lib().current(file)), markup=False)


@reports_errors
def heads() -> None:
    """List the head revision(s); more than one needs `ahsd-config merge`."""
    revs = _lib().heads()
    for line in _render().heads_lines(revs):
        stdout.print(line, markup=False)
    if len(revs) > 1:
        raise UsageError(f"{len(revs)} heads; join them with `ahsd-config merge {revs[0].id} {revs[1].id} -m TITLE`")


@reports_errors
def history(rng: Optional[str] = typer.Option(None, "-r", "--range", metavar="FROM:TO",
                                             help="After FROM up to TO, e.g. v13:v15 (either side may be empty)."),
            brief: bool = typer.Option(False, "--brief", help="Titles only.")) -> None:
    """The chain oldest first: id, parents, date, title, and every change with its rationale."""
    for line in _render().history_lines(_lib().history(rng), brief):
        stdout.print(line, markup=False)


@reports_errors
def log_key(key: str = typer.Argument(..., metavar="KEY", help="Dotted key, e.g. priority_net.batch_size")) -> None:
    """Every revision that touched KEY: old -> new, date and why (a per-key blame)."""
    steps = _lib().log_key(key)
    if not steps:
        raise UsageError(f"no revision touches {key}")
    for line in _render().log_lines(steps):
        stdout.print(line, markup=False)


@reports_errors
def show(revision: str = typer.Argument("head", metavar="REV", help="Revision id, or head.")) -> None:
    """Print the full config at REV."""
    stdout.print(_lib().show_text(revision), markup=False, end="")


@reports_errors
def diff(
    a: str = typer.Argument(..., metavar="A", help="Revision (v13, head), file, or GITREV:path (a file at a git commit)."),
    b: str = typer.Argument(..., metavar="B", help="Revision (v15, head), file, or GITREV:path."),
    fmt: str = typer.Option("text", "--format", metavar="text|json|markdown", help="Output format."),
    with_history: bool = typer.Option(False, "--history", help="Also keys that moved and came back."),
) -> None:
    """Per-key changes between A and B; for revisions, every step in between and its rationale."""
    render = _render()
    if fmt not in ("text", "json", "markdown"):
        raise UsageError(f"--format must be text, json or markdown, not {fmt!r}")
    from ahsd_config.gate.git import show_at_commit

    result = _lib().diff(a, b, history=with_history, git_show=show_at_commit)
    if fmt == "json":  # machine formats as they are: no rich layout pass (seconds on 20,000 keys)
        write_output(render.json_text(result) + "\n", None)
    elif fmt == "markdown":
        write_output(render.markdown(result) + "\n", None)
    else:
        render.text(result, stdout, [] if with_history else result.returned)


@reports_errors
def squash(start: str = typer.Argument(..., metavar="START", help="First revision of the range."),
           end: str = typer.Argument(..., metavar="END", help="Last revision of the range (the new revision's id)."),
           message: Optional[str] = typer.Option(None, "-m", "--message", metavar="TITLE",
                                                 help="Title of the squashed revision (default: the titles joined by ' + ').")) -> None:
    """Replace revisions START..END by one revision (id END) holding all changes and rationales."""
    rev = _lib().squash(start, end, message)
    stdout.print(f"wrote {rev.path} ({len(rev.changes)} changes)", markup=False)


@reports_errors
def merge_heads(rev1: str = typer.Argument(..., metavar="REV1", help="One head."),
                rev2: str = typer.Argument(..., metavar="REV2", help="The other head."),
                message: str = typer.Option(..., "-m", "--message", metavar="TITLE", help="Title of the merge revision."),
                rev_id: Optional[str] = typer.Option(None, "--id", metavar="ID",
                                                     help="Id of the merge revision (default: merge_REV1_REV2).")) -> None:
    """Join two heads with a merge revision."""
    rev = _lib().merge(rev1, rev2, message, rev_id)
    stdout.print(f"wrote {rev.path}", markup=False)


@reports_errors
def revision(message: str = typer.Option(..., "-m", "--message", metavar="TITLE", help="Title of the new revision."),
             source: str = typer.Option(..., "--from", metavar="FILE", help="Config whose differences to head to record."),
             rev_id: Optional[str] = typer.Option(None, "--id", metavar="ID", help="Revision id (default: v + today's date, e.g. v261129)."),
             stamp: bool = typer.Option(True, "--stamp/--no-stamp",
                                        help="Stamp FILE at the new revision (the new head).")) -> None:
    """Write a new revision from FILE's differences to head, with a placeholder rationale per change."""
    from ahsd_config.input.files import check_replaceable

    lib = _lib()
    if stamp:  # a FILE the stamp cannot write (read-only, not a file, a broken link) is refused first
        check_replaceable(source)
    rev = lib.new_revision(message, source, rev_id, stamp=stamp)  # the revision and FILE's stamp: one atomic step
    stdout.print(_render().revision_written_line(rev), markup=False)
    if stamp:
        stdout.print(_render().revision_stamped_line(source, rev.id), markup=False)


def register(app: typer.Typer) -> None:
    app.command()(migrate)
    app.command()(stamp)
    app.command()(current)
    app.command()(heads)
    app.command()(history)
    app.command("log")(log_key)
    app.command()(show)
    app.command()(diff)
    app.command()(squash)
    app.command("merge")(merge_heads)
    app.command()(revision)
