"""Findings and per-file reports: the data every output format renders.

The JSON shape is a contract (PRODUCT.md): a finding is
`{"code", "severity", "message", "key", "line", "column", "hint"}` with the 1-based position of the
offending key (or of its section for whole-section findings). A file is
`{"path", "findings", "suppressed"}`; a file that could not be read also carries `"error"`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
_RANK = {"info": 0, "warning": 1, "error": 2}


def severity_rank(severity: str) -> int:
    """info < warning < error, for `--fail-on` comparisons."""
    return _RANK[severity]


@dataclass(frozen=True)
class Finding:
    """One diagnostic at one key of one file: validate's, a rule's and the CI gate's alike.

    `path` and `check` are set where the finding travels without its `FileReport` (the gate's
    findings span files and checks); the JSON contract above is the seven fields of `to_json`."""

    code: str
    severity: Severity
    message: str
    key: str = ""
    line: int = 1
    column: int = 1
    hint: str = ""
    path: str = ""
    check: str = ""  # the gate check that raised it ("" for validate's findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "key": self.key,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[int, int, str, str]:
        return (self.line, self.column, self.code, self.key)


@dataclass(frozen=True)
class Suppressed:
    """A finding silenced by `# ahsd: ignore[CODE] reason` on its line, kept for the record."""

    finding: Finding
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {**self.finding.to_json(), "reason": self.reason}


@dataclass(frozen=True)
class FileError:
    """Why a file could not be validated at all (unreadable, malformed, unsafe): exit 2."""

    message: str
    line: int = 1
    column: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "line": self.line, "column": self.column}


@dataclass(frozen=True)
class FileReport:
    """The verdict on one file: findings sorted by position, suppressed ones, or a read error."""

    path: str
    findings: tuple[Finding, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    error: FileError | None = None

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def has_errors(self) -> bool:
        return self.count("error") > 0

    def worst_rank(self) -> int:
        """Rank of the most severe finding, -1 when there is none."""
        return max((severity_rank(f.severity) for f in self.findings), default=-1)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "findings": [f.to_json() for f in self.findings],
            "suppressed": [s.to_json() for s in self.suppressed],
        }
        if self.error is not None:
            out["error"] = self.error.to_json()
        return out


def exit_code(reports: list[FileReport], fail_on: str = "error") -> int:
    """PRODUCT.md: 2 if any file was unreadable, 1 if any finding is at or above `fail_on`, else 0."""
    if any(r.error is not None for r in reports):
        return 2
    threshold = severity_rank(fail_on)
    return 1 if any(r.worst_rank() >= threshold for r in reports) else 0
