"""`ahsd-config`: a thin shell over the library.

Commands live in `cli_*.py` modules by room (validate, migrations, gate); each is ~15 lines:
parse -> call the library -> render -> exit code. This module owns the Typer app and the ONE
place where the package's error family becomes an exit code (`reports_errors`).
"""

from __future__ import annotations

import functools
import sys
from typing import Callable, TypeVar

import typer
from rich.console import Console

from ahsd_config.errors import AhsdConfigError

app = typer.Typer(
    name="ahsd-config",
    help="Validate, explain, migrate and gate PriorityNet training configs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., object])


def reports_errors(func: F) -> F:
    """Translate `AhsdConfigError` into a message on stderr and its exit code. Nothing else is caught."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AhsdConfigError as exc:
            stderr.print(exc.render(), markup=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


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
