"""The one error family of `ahsd_config`.

Every function in the package raises a subclass of `AhsdConfigError`; the CLI catches only this
family and maps `exit_code` to the process exit status (PRODUCT.md: 1 = findings/gate/conflict,
2 = usage or unreadable input). Messages say what to do next.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class AhsdConfigError(Exception):
    """Base of every error `ahsd_config` raises on purpose. Its message is one line: a line break in
    it can only come from user text (a path, a ref, an id typed with one), and the CLI writes it as
    `\\n` (`one_line`). A class whose message is a head line and detail lines sets `multiline` and
    passes the user text it embeds through `one_line` itself."""

    exit_code: int = 2
    multiline: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def render(self) -> str:
        return self.message


def one_line(text: str) -> str:
    """User text inside a message: a line break in it written as `\\n`, so it cannot start a line."""
    return text.replace("\n", "\\n")


@dataclass(frozen=True)
class SourcePosition:
    """1-based line and column in a file, as editors and SARIF count them."""

    path: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class InputError(AhsdConfigError):
    """Unreadable or unsafe input: missing file, bad bytes, malformed YAML, unsafe tags, bombs."""

    exit_code = 2

    def __init__(self, path: str | Path, message: str, line: int = 1, column: int = 1) -> None:
        self.position = SourcePosition(str(path), line, column)
        super().__init__(message)

    def render(self) -> str:
        return f"{self.position}: error: {self.message}"


def from_os_error(exc: OSError) -> AhsdConfigError:
    """An OSError as the one line the user sees: what failed, where, and why (exit 2). Every
    writer is atomic, so a failed write has replaced nothing. One that names no file (a write to an
    open descriptor, the working folder gone) is said as such, never as a made-up `<file>:1:1`."""
    import errno

    why = exc.strerror or str(exc)
    if exc.filename is None:
        return AhsdConfigError(f"error: {why}")
    where = exc.filename
    if exc.errno in (errno.EEXIST, errno.ENOTDIR) and "folder" not in why:
        why = f"a file is in the way where a folder is needed ({why})"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
        why = f"cannot write here: {why}; nothing was replaced"
    if exc.filename2 is not None:
        why += f" (-> {exc.filename2})"
    return InputError(os.fsdecode(where) if isinstance(where, bytes) else str(where), why)


class UsageError(AhsdConfigError):
    """The command was called wrongly (unknown revision, bad --set syntax, ...)."""

    exit_code = 2


class ConfigInvalid(AhsdConfigError):
    """A config has error findings, so it may not run (used by the trainer's pre-run check)."""

    exit_code = 2
    multiline = True  # a head line, then one line per finding

    def __init__(self, message: str, reports: list | None = None) -> None:
        super().__init__(message)
        self.reports = reports or []
