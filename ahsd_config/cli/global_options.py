"""`ahsd-config`'s global options (`--version`, `--verbose`), run before every command.

No `from __future__ import annotations` here: Typer reads `typer.Context` from the signature.
"""

import typer

from ahsd_config.cli.shell import announce_chain, package_version, reports_errors


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ahsd-config {package_version()}")
        raise typer.Exit()


@reports_errors
def global_options(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Say which project and revision chain are used (on stderr)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Validate, explain, migrate and gate PriorityNet training configs."""
    announce_chain(ctx.invoked_subcommand, verbose)


def register(app: typer.Typer) -> None:
    app.callback()(global_options)
