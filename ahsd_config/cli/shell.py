"""What every `ahsd-config` command shares, with no Typer app in sight (command modules import
this, never `cli.app`): the ONE place an error becomes a line on stderr and an exit code, the
consoles, and writing a command's output."""

from __future__ import annotations

import codecs
import errno
import functools
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

from ahsd_config.errors import AhsdConfigError, InputError, from_os_error, one_line

F = TypeVar("F", bound=Callable[..., object])

# Commands that read the revision chain: outside a project they say they use the shipped one.
CHAIN_READERS = frozenset({"migrate", "stamp", "current", "heads", "history", "log", "show", "diff",
                           "check-migrations"})


def report_error(exc: AhsdConfigError | OSError) -> int:
    """The one translation of the package's error family (and an OSError: a read-only folder, a
    full disk, a path that is a directory) into one line on stderr; returns its exit code."""
    error = from_os_error(exc) if isinstance(exc, OSError) else exc
    stderr_line(error.render(), error.multiline)
    return error.exit_code


def stderr_line(text: str, multiline: bool = False) -> None:
    """Every error or note line reaches stderr here: one line (user text's line breaks as `\\n`, unless the
    error is a head line with detail lines), control characters escaped (`safe_text`)."""
    sys.stderr.write(safe_text(text if multiline else one_line(text)) + "\n")
    sys.stderr.flush()


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


# Control characters (C0 but tab and newline, DEL, C1) and the bidirectional embeddings, overrides
# and isolates (they reorder what a terminal or a review page shows: "Trojan Source").
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str) -> str:
    """Text any terminal or file can take: lone surrogates (undecodable bytes in a file name or a
    key), control characters (`"\\e[2J"` in a quoted key or value would clear or retitle the
    terminal) and bidi controls are written as `\\uXXXX`; newlines and tabs stay. The escape is
    JSON's own, so inside a JSON or SARIF string it reads back as the same character (`\\x85`,
    written before, made the JSON report invalid)."""
    text = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class StdoutLost(Exception):
    """Standard output refused a write (its reader is gone, the disk is full). Deliberately outside
    the error family and not an OSError: no command's handler may word it as a file's error; it
    travels up to `main`, to `stdout_lost`."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _GuardedStdout:
    """sys.stdout for the whole process: every write and flush that fails raises `StdoutLost`
    (rich, click and our own writers all print through sys.stdout)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise StdoutLost(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise StdoutLost(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _u_escape(error: UnicodeEncodeError) -> tuple[str, int]:
    """The `ahsd-escape` codec error handler: a character the stream's encoding lacks is written as
    JSON's `\\uXXXX` (a pair beyond the BMP), so text stays readable and a JSON report stays JSON."""
    out = []
    for char in error.object[error.start:error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), error.end


def guard_streams() -> None:
    """For the whole process: stdout's failures become `StdoutLost`, and a character that stdout's
    or stderr's encoding cannot hold (LANG=C with PYTHONUTF8=0, PYTHONIOENCODING=ascii, a latin-1
    terminal) is escaped instead of raising UnicodeEncodeError from the middle of a report."""
    codecs.register_error("ahsd-escape", _u_escape)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="ahsd-escape")
    if not isinstance(sys.stdout, _GuardedStdout) and sys.stdout is not None:
        sys.stdout = _GuardedStdout(sys.stdout)


def stdout_lost(lost: StdoutLost) -> int:
    """The end of a command whose output could not be written. A reader that went away
    (`ahsd-config history | head -3`) ends it as it ends `cat` or `git`: silently, by SIGPIPE
    (status 141 in a shell), never a status that reads as findings (1) or bad input (2). Any other
    failure (a full disk) is one line, exit 2. Either way fd 1 is pointed at /dev/null first, so the
    interpreter's own flush at exit cannot print 'Exception ignored'."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a stream with no descriptor: nothing flushes it later
        fd = None
    if fd is not None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    if lost.error.errno == errno.EPIPE:
        sys.stderr.flush()
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    why = lost.error.strerror or str(lost.error)
    return report_error(AhsdConfigError(f"error: cannot write to standard output: {why}"))


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
        stderr_line(chain.describe())
    elif chain.project is None:
        stderr_line(f"note: no ahsd project here (no pyproject.toml with [tool.ahsd] in {Path.cwd()} "
                    f"or above); reading the chain shipped with ahsd {package_version()}")
