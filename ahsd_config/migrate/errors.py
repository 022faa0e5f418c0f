"""Errors of the migrations room; all derive from `AhsdConfigError` (the CLI maps `exit_code`).

Graph errors carry structured fields (the heads, the cycle, the unknown id) so a caller such as the
CI gate can act on them; `render()` turns them into one message that says what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ahsd_config.errors import AhsdConfigError, one_line
from ahsd_config.values import show


class MigrationError(AhsdConfigError):
    """Base of the migrations room's errors (exit 2 unless a subclass says otherwise)."""

    exit_code = 2


class RevisionFormatError(MigrationError):
    """A revision file is malformed (missing id, unknown op, empty rationale ...)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class RevisionApplyError(MigrationError):
    """A revision cannot act on the data it meets: a key written through a value that is not a
    section, a transform given a value of the wrong type (exit 2, one line)."""


class RevisionGraphError(MigrationError):
    """The revision graph is broken (unknown parent, duplicate id, no path)."""


class UnknownRevision(RevisionGraphError):
    def __init__(self, revision: str, known: list[str]) -> None:
        self.revision = revision
        self.known = known
        hint = ", ".join(known[-8:])
        super().__init__(
            f"unknown revision {revision!r}; known revisions end with: {hint} "
            "(`ahsd-config history` lists them all; `head` names the newest)"
        )


class MultipleHeads(RevisionGraphError):
    def __init__(self, heads: list[str]) -> None:
        self.heads = heads
        super().__init__(
            f"the revision graph has {len(heads)} heads: {', '.join(heads)}; join them with "
            f"`ahsd-config merge {' '.join(heads[:2])} -m \"merge\"` or name a revision instead of `head`"
        )


class CycleDetected(RevisionGraphError):
    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__(
            f"revision cycle: {' -> '.join(cycle)}; a revision's parents must be older revisions"
        )


class NotStamped(MigrationError):
    """An unstamped file whose revision cannot be inferred exactly."""

    def __init__(self, path: str, nearest: str, differing: list[str]) -> None:
        self.path = path
        self.nearest = nearest
        self.differing = differing
        shown = ", ".join(differing[:6]) + (" ..." if len(differing) > 6 else "")
        super().__init__(
            f"{path} has no `revision:` stamp and matches no revision exactly (nearest: {nearest}, "
            f"{len(differing)} keys differ: {shown}); run `ahsd-config stamp {path} REV` first"
        )


@dataclass(frozen=True)
class Conflict:
    """A file value that differs from what a step expected."""

    revision: str
    key: str
    expected: Any
    found: Any
    wanted: Any

    def describe(self) -> str:
        return (
            f"{self.key}: revision {self.revision} expects {show(self.expected)}, "
            f"the file has {show(self.found)} (the revision would write {show(self.wanted)})"
        )


class MigrationConflict(MigrationError):
    """One or more file values differ from the revisions' expected old values; nothing was written."""

    exit_code = 1
    multiline = True  # a head line, then one indented line per conflict

    def __init__(self, path: str, conflicts: list[Conflict]) -> None:
        self.path = path
        self.conflicts = conflicts
        lines = [f"{one_line(str(path))}: {len(conflicts)} conflict(s); the file was not changed:"]
        lines += [f"  {c.describe()}" for c in conflicts]
        lines.append(
            "  keep your values with --on-conflict keep, or take the revisions' values with --on-conflict take"
        )
        super().__init__("\n".join(lines))


class MigrationInvalid(MigrationError):
    """The migrated result does not pass the schema; the original file is left as it was."""

    multiline = True  # a head line, then one indented line per error

    def __init__(self, path: str, errors: list[str]) -> None:
        self.path = path
        self.errors = errors
        super().__init__(
            f"{one_line(str(path))}: the migrated config would not validate, so the file was not changed:\n  "
            + "\n  ".join(errors[:10])
        )
