"""`ahsd-config`: a thin shell over the library.

Commands live in the sibling `cli/*.py` modules by room (validate, migrations, gate); each is ~15 lines:
parse -> call the library -> render -> exit code. This module owns the Typer app and the ONE
place where the package's error family becomes an exit code (`reports_errors`).

Start-up cost matters (`validate` runs on every editor save): Typer and rich together cost
~100 ms to import, more than the validation itself. So `app` is built on first access
(`from ahsd_config.cli.app import app` still works), and `main()` runs a plain `ahsd-config validate
PATH... [--format F] [--fail-on S] [--output FILE]` without Typer; anything else (help, a
malformed option) goes through Typer, which owns usage messages.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

from ahsd_config.errors import AhsdConfigError, InputError, from_os_error

_app: Any = None


def _build_app() -> Any:
    """The Typer app with every room's commands registered (built once, on first use)."""
    global _app
    if _app is None:
        import typer

        _app = typer.Typer(
            name="ahsd-config",
            help="Validate, explain, migrate and gate PriorityNet training configs.",
            no_args_is_help=True,
            pretty_exceptions_enable=False,
            rich_markup_mode=None,
        )
        _register_commands()
    return _app


# Commands that read the revision chain: outside a project they say they use the shipped one.
CHAIN_READERS = frozenset({"migrate", "stamp", "current", "heads", "history", "log", "show", "diff",
                           "check-migrations"})


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ahsd")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree without install
        return "unknown (not installed)"


def announce_chain(command: str | None, verbose: bool) -> None:
    """`--verbose`: which project and chain; outside a project, a chain reader says it reads the
    shipped chain. One line on stderr, so stdout stays the command's own output."""
    from ahsd_config.input.project import find_chain

    if command not in CHAIN_READERS and not verbose:
        return
    chain = find_chain()
    if verbose:
        sys.stderr.write(chain.describe() + "\n")
    elif chain.project is None:
        sys.stderr.write(f"note: no ahsd project here (no pyproject.toml with [tool.ahsd] in {Path.cwd()} "
                         f"or above); reading the chain shipped with ahsd {package_version()}\n")


def __getattr__(name: str) -> Any:
    if name == "app":
        return _build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    """Translate `AhsdConfigError` (and an OSError: a read-only folder, a full disk, a path that is
    a directory) into one line on stderr and its exit code. Nothing else is caught."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (AhsdConfigError, OSError) as exc:
            import typer

            error = from_os_error(exc) if isinstance(exc, OSError) else exc
            typer.echo(safe_text(error.render()), err=True)
            raise typer.Exit(error.exit_code) from None

    return wrapper  # type: ignore[return-value]


def safe_text(text: str) -> str:
    """Text any terminal or file can take: lone surrogates (undecodable bytes in a file name or a
    key) are written as backslash escapes instead of failing the whole output."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def write_output(text: str, path: Path | None) -> None:
    """Print `text`, or write it to `path` atomically (temp file, fsync, rename)."""
    text = safe_text(text)
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from ahsd_config.input.files import atomic_write

    target = Path(path)
    try:
        atomic_write(target, text)
    except OSError as exc:
        raise InputError(target, f"cannot write {target}: {exc.strerror or exc}") from None


def run_validate(paths: list[str], fmt: str = "text", fail_on: str = "error", output: Path | None = None) -> int:
    """`ahsd-config validate`: validate, render, print read errors on stderr; return the exit code.

    Shared by the Typer command and the fast path in `main()`. Raises `UsageError` (a glob that
    matches nothing) like any library call.
    """
    from ahsd_config.render import render
    from ahsd_config.api.validate import validate_files

    result = validate_files(paths)
    write_output(render(fmt, result.reports), output)
    for message in result.input_errors:
        sys.stderr.write(message + "\n")
    return result.exit_code(fail_on)


_VALIDATE_OPTIONS = {"--format": "fmt", "-f": "fmt", "--fail-on": "fail_on", "--output": "output", "-o": "output"}
_CHOICES = {"fmt": ("text", "json", "sarif", "github"), "fail_on": ("error", "warning", "info")}


def parse_plain_validate(args: list[str]) -> dict[str, Any] | None:
    """Options of a plain `validate` call, or None when Typer should parse it (help, odd input)."""
    options: dict[str, Any] = {"paths": [], "fmt": "text", "fail_on": "error", "output": None}
    rest = iter(args)
    for arg in rest:
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _VALIDATE_OPTIONS:
            value = value if eq else next(rest, None)
            if value is None:
                return None
            field = _VALIDATE_OPTIONS[name]
            if value not in _CHOICES.get(field, (value,)):
                return None
            options[field] = Path(value) if field == "output" else value
        elif arg.startswith("-"):
            return None
        else:
            options["paths"].append(arg)
    return options if options["paths"] else None


def _register_commands() -> None:
    # Imported for their side effect: each module adds its commands to `app`.
    from ahsd_config.cli import gate, global_options, migrate, validate  # noqa: F401
    from ahsd_config.cli.help import plain_help

    plain_help(_app)


def main() -> None:
    # ahsd-config uses no pydantic plugins; skipping their discovery (a scan of every installed
    # package's entry points) saves ~10% of a `validate` run. A user's explicit setting wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = sys.argv[1:]
    plain = parse_plain_validate(args[1:]) if args[:1] == ["validate"] else None
    if plain is not None:
        try:
            sys.exit(run_validate(plain["paths"], plain["fmt"], plain["fail_on"], plain["output"]))
        except (AhsdConfigError, OSError) as exc:
            error = from_os_error(exc) if isinstance(exc, OSError) else exc
            sys.stderr.write(safe_text(error.render()) + "\n")
            sys.exit(error.exit_code)
    _build_app()(prog_name="ahsd-config")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
