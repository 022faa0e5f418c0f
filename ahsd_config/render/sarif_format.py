"""SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`).

One run; `tool.driver.rules` lists every registered rule (id, title, why, fix, default level);
each result points at the key's line/column with a path relative to the working directory, which
is the repository root in CI. Unreadable files become failed tool-execution notifications.
"""

from __future__ import annotations

import json
from pathlib import Path

from ahsd_config import __version__
from ahsd_config.findings import FileReport

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def artifact_uri(path: str) -> str:
    """Relative, forward-slashed path: what GitHub matches against the repository's files."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return p.as_posix()


def _rule_json(rule) -> dict:
    return {
        "id": rule.code,
        "name": "".join(word.capitalize() for word in rule.title.replace("-", " ").split() if word.isalnum()),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why},
        "help": {"text": rule.fix, "markdown": f"**Fix:** {rule.fix}"},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": [rule.group] if rule.group else []},
    }


def _location(path: str, line: int, column: int) -> dict:
    return {"physicalLocation": {
        "artifactLocation": {"uri": artifact_uri(path)},
        "region": {"startLine": max(line, 1), "startColumn": max(column, 1)},
    }}


def render(reports: list[FileReport]) -> str:
    return json.dumps(sarif_log(reports), indent=2, ensure_ascii=False) + "\n"


def sarif_log(reports: list[FileReport]) -> dict:
    """The SARIF log as data (the gate adds its own findings and rules to the same run)."""
    from ahsd_config.rules import all_rules

    rules = all_rules()
    index = {rule.code: i for i, rule in enumerate(rules)}
    results, notifications = [], []
    for report in reports:
        if report.error is not None:
            notifications.append({
                "level": "error",
                "message": {"text": f"{report.path}: {report.error.message}"},
                "locations": [_location(report.path, report.error.line, report.error.column)],
            })
        for f in report.findings:
            text = f"{f.message}. Hint: {f.hint}" if f.hint else f.message
            result = {
                "ruleId": f.code,
                "level": _LEVEL[f.severity],
                "message": {"text": text},
                "locations": [_location(report.path, f.line, f.column)],
                "properties": {"key": f.key},
            }
            if f.code in index:
                result["ruleIndex"] = index[f.code]
            results.append(result)
    run = {
        "tool": {"driver": {
            "name": "ahsd-config",
            "version": __version__,
            "rules": [_rule_json(rule) for rule in rules],
        }},
        "invocations": [{"executionSuccessful": not notifications,
                         "toolExecutionNotifications": notifications}],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
