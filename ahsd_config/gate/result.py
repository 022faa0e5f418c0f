"""What a gate run returns: one verdict per check, the findings that failed it, and the table of
changed keys with the revisions that explain them. Plain data; `ahsd_config.render.gate` renders it.

Checks, each with a permanent code (AHSD6xx = gate; `ahsd-config explain AHSD601` knows each,
from `ahsd_config.rules.gate_codes`):

| check        | code    | fails when                                                              |
|--------------|---------|-------------------------------------------------------------------------|
| validate     | (rules) | a changed config has error findings, or does not parse (AHSD608)        |
| stamp        | AHSD602 | a config's `revision:` is not the single head of the chain              |
| recorded     | AHSD601 | a value changed between base and head that no revision in range records |
| rationale    | AHSD603 | an added revision has an empty or placeholder rationale                 |
| apply-revert | AHSD604 | an added revision does not apply cleanly to its parent state            |
|              | AHSD605 | ... or reverting it does not restore that state: byte for byte on a     |
|              |         | config's text walked up from base; values and key order (a warning     |
|              |         | when only the order differs) on the chain's own state otherwise        |
| single-head  | AHSD606 | the chain has more than one head (or none: a cycle)                     |
| history      | AHSD607 | a landed revision was edited or deleted; AHSD609 a revision is malformed |
| validate     | AHSD611 | a config the gate watches was deleted                                   |
| settings     | AHSD610 | the pull request changes `[tool.ahsd]` config_globs or migrations       |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ahsd_config.errors import AhsdConfigError
from ahsd_config.findings import Finding
from ahsd_config.migrate.walk import StepRecord

UNRECORDED, NOT_AT_HEAD, PLACEHOLDER, NO_APPLY, NO_REVERT, HEADS, EDITED, UNREADABLE, BAD_REVISION = (
    "AHSD601", "AHSD602", "AHSD603", "AHSD604", "AHSD605", "AHSD606", "AHSD607", "AHSD608", "AHSD609",
)
SETTINGS_CHANGED, CONFIG_DELETED = "AHSD610", "AHSD611"

CHECKS: dict[str, str] = {
    "validate": "changed configs validate",
    "stamp": "configs are stamped at the head revision",
    "recorded": "every changed value is recorded in a revision",
    "rationale": "added revisions give a rationale for every change",
    "apply-revert": "added revisions apply cleanly and revert byte-identically",
    "single-head": "the revision chain has one head",
    "history": "landed revisions are left as they are",
    "settings": "the gate's own settings are as at the base",
}


class GateFailed(AhsdConfigError):
    """The pull request did not pass the gate (exit 1); the findings were already printed."""

    exit_code = 1


@dataclass
class CheckVerdict:
    name: str
    title: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


@dataclass(frozen=True)
class KeyChange:
    """One key whose value differs between a config's base and head versions."""

    path: str
    key: str
    old: Any
    new: Any
    steps: tuple[StepRecord, ...]  # the revisions that moved it, in order
    recorded: bool


@dataclass
class GateResult:
    base: str
    head: str
    merge_base: str
    configs: list[str] = field(default_factory=list)
    revisions_added: list[str] = field(default_factory=list)
    checks: list[CheckVerdict] = field(default_factory=list)
    changes: list[KeyChange] = field(default_factory=list)
    touched: dict[str, set[int]] = field(default_factory=dict)
    head_revision: str | None = None
    nothing_to_check: bool = False
    seconds: float = 0.0
    label: str = ""

    @property
    def subject(self) -> str:
        """What was judged: `origin/main...HEAD`, or a folder for `check-migrations`."""
        return self.label or f"{self.base}...{self.head}"

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.checks for f in c.findings]

    def check(self, name: str) -> CheckVerdict:
        return next(c for c in self.checks if c.name == name)

    def add(self, check: str, path: str, code: str, message: str, *, key: str = "", line: int = 1,
            column: int = 1, hint: str = "", severity: str = "error") -> None:
        """One finding of `check`, at a position of `path`."""
        self.check(check).findings.append(Finding(code, severity, message, key, line, column, hint,  # type: ignore[arg-type]
                                                  path=path, check=check))

    def note(self, check: str, text: str) -> None:
        self.check(check).notes.append(text)
