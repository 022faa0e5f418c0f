"""`ahsd-config`: a thin shell over the library.

Commands live in `cli_*.py` modules by room (validate, migrations, gate); each is ~15 lines:
parse -> call the library -> render -> exit code. This module owns the Typer app and the ONE
place where the package's error family becomes an exit code (`reports_errors`).
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, TypeVar

import typer

from ahsd_config.errors import AhsdConfigError, InputError

app = typer.Typer(
    name="ahsd-config",
    help="Validate, explain, migrate and gate PriorityNet training configs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _LazyConsole:
    """A rich Console built on first use: importing rich costs ~15 ms, and `validate` (run on every
    editor save) prints plain text without it."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, soft_wrap=True, **self._options)
        return getattr(self._console, name)


stdout: Any = _LazyConsole()
stderr: Any = _LazyConsole(stderr=True)

F = TypeVar("F", bound=Callable[..., object])


def reports_errors(func: F) -> F:
    """Translate `AhsdConfigError` into a message on stderr and its exit code. Nothing else is caught."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AhsdConfigError as exc:
            typer.echo(exc.render(), err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def write_output(text: str, path: Path | None) -> None:
    """Print `text`, or write it to `path` atomically (temp file, fsync, rename)."""
    if path is None:
        typer.echo(text, nl=False)
        return
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(target, f"cannot write {target}: {exc.strerror or exc}") from None


def _register_commands() -> None:
    # Imported for their side effect: each module adds its commands to `app`.
    from ahsd_config import cli_gate, cli_migrate, cli_validate  # noqa: F401


def main() -> None:
    _register_commands()
    app(prog_name="ahsd-config")


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
