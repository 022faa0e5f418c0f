"""What every `ahsd-config` command shares, with no Typer app in sight (command modules import
this, never `cli.app`): the ONE place an error becomes a line on stderr and an exit code, the
consoles, and writing a command's output."""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

from ahsd_config.errors import AhsdConfigError, InputError, from_os_error

F = TypeVar("F", bound=Callable[..., object])

# Commands that read the revision chain: outside a project they say they use the shipped one.
CHAIN_READERS = frozenset({"migrate", "stamp", "current", "heads", "history", "log", "show", "diff",
                           "check-migrations"})


def report_error(exc: AhsdConfigError | OSError) -> int:
    """The one translation of the package's error family (and an OSError: a read-only folder, a
    full disk, a path that is a directory) into one line on stderr; returns its exit code."""
    error = from_os_error(exc) if isinstance(exc, OSError) else exc
    sys.stderr.write(one_line(error.render()) + "\n")
    sys.stderr.flush()
    return error.exit_code


def reports_errors(func: F) -> F:
    """A Typer command whose `AhsdConfigError`/`OSError` exits through `report_error`. Nothing
    else is caught."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (AhsdConfigError, OSError) as exc:
            import typer

            raise typer.Exit(report_error(exc)) from None

    return wrapper  # type: ignore[return-value]


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """Text any terminal or file can take: lone surrogates (undecodable bytes in a file name or a
    key) and control characters (`"\\e[2J"` in a quoted key or value would clear or retitle the
    terminal) are written as backslash escapes; newlines and tabs stay."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def one_line(text: str) -> str:
    """A message that promises one line (an error, a note on stderr): `safe_text`, and a newline
    inside it (a path typed with one, `$'a\\nb.yaml'`) written `\\n` as the other control characters are."""
    return safe_text(text).replace("\n", "\\n")


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

    def print(self, *objects: Any, **options: Any) -> None:
        """Every line a command prints passes `safe_text` (user text can hold control characters)."""
        self.__getattr__("print")(*(safe_text(o) if isinstance(o, str) else o for o in objects), **options)


stdout: Any = _LazyConsole()
stderr: Any = _LazyConsole(stderr=True)


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
        why = exc.strerror or str(exc)
        if exc.filename is not None and os.fsdecode(exc.filename) != str(target):
            why = f"{os.fsdecode(exc.filename)} {why}"  # the part of the path that failed (a parent)
        raise InputError(target, f"cannot write {target}: {why}") from None


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
        sys.stderr.write(one_line(chain.describe()) + "\n")
    elif chain.project is None:
        sys.stderr.write(one_line(f"note: no ahsd project here (no pyproject.toml with [tool.ahsd] in {Path.cwd()} "
                                  f"or above); reading the chain shipped with ahsd {package_version()}") + "\n")
