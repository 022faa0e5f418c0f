"""`ahsd-config`: a thin shell over the library. This module builds the Typer app and owns `main`.

The command modules (`validate`, `migrate`, `gate`, `global_options`) never import this one: each
exposes `register(app)`, which `build_app` calls, so there is no import cycle and no reliance on
statement order. Each command is ~15 lines: parse -> call the library -> render (`ahsd_config.render`)
-> exit code; errors become exit codes in ONE place, `cli/shell.py`'s `report_error`.

Start-up cost matters (`validate` runs on every editor save): the app is built on first access
(`from ahsd_config.cli.app import app` still works), and `main()` runs a plain `validate` through
`cli/plain.py` without Typer.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from typing import Any

from ahsd_config.cli.plain import parse_plain_validate, run_validate
from ahsd_config.cli.shell import StdoutLost, guard_streams, report_error, stdout_lost
from ahsd_config.errors import AhsdConfigError

_app: Any = None


def build_app() -> Any:
    """The Typer app with every room's commands registered (built once, on first use)."""
    global _app
    if _app is None:
        import typer

        from ahsd_config.cli import gate, global_options, migrate, validate
        from ahsd_config.cli.help import plain_help

        app = typer.Typer(
            name="ahsd-config",
            help="Validate, explain, migrate and gate PriorityNet training configs.",
            no_args_is_help=True,
            pretty_exceptions_enable=False,
            rich_markup_mode=None,
        )
        for room in (gate, global_options, migrate, validate):
            room.register(app)
        plain_help(app)
        _app = app
    return _app


def __getattr__(name: str) -> Any:
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


INTERRUPTED = ("ahsd-config: interrupted; every file is as it was or wholly written (writes are atomic), "
               "and this command's lock files are removed\n")


def main() -> None:
    """SIGTERM (a CI job's cancel, `timeout`) unwinds like Ctrl-C, so a lock file (`FILE.lock`,
    `migrations/.ahsd.lock`) and a staged temp file are removed on the way out (the default action
    killed the process and left FILE.lock beside the config, to be committed by mistake); either
    signal ends with one line and exit 130."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        _main()
    except KeyboardInterrupt:  # the plain validate road, or before Typer took over
        sys.stderr.write(INTERRUPTED)
        sys.exit(130)
    except SystemExit as done:
        if done.code == 130:  # Typer's answer to a KeyboardInterrupt (no command exits 130 itself)
            sys.stderr.write(INTERRUPTED)
        raise


def _main() -> None:
    # ahsd-config uses no pydantic plugins; skipping their discovery (a scan of every installed
    # package's entry points) saves ~10% of a `validate` run. A user's explicit setting wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    guard_streams()
    try:
        os.getcwd()
    except FileNotFoundError:  # every command resolves paths against it; say so once, first
        sys.exit(report_error(AhsdConfigError("error: the current folder no longer exists (it was deleted "
                                              "after this shell entered it); cd to one that exists")))
    try:
        try:
            _run(sys.argv[1:])
        finally:
            sys.stdout.flush()  # here, not at interpreter exit, where a failure cannot be reported
    except StdoutLost as lost:
        sys.exit(stdout_lost(lost))


def _run(args: list[str]) -> None:
    plain = parse_plain_validate(args[1:]) if args[:1] == ["validate"] else None
    if plain is not None:
        # A validate process is short and builds ~100k objects that live to its end (pydantic's
        # models, the document, the findings): cycle collection would only walk them again and
        # again (~6 % of a run, timed side by side with it on). Nothing is kept across runs.
        gc.disable()
        try:
            sys.exit(run_validate(plain["paths"], plain["fmt"], plain["fail_on"], plain["output"]))
        except (AhsdConfigError, OSError) as exc:
            sys.exit(report_error(exc))
    build_app()(prog_name="ahsd-config")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
