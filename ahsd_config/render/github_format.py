"""GitHub Actions workflow commands: one `::error file=...,line=...,col=...,title=...::message` each.

Escaping follows the Actions runner (`toolkit/packages/core/src/command.ts`): in the message `%`,
`\\r`, `\\n`; in properties additionally `:` and `,`.
"""

from __future__ import annotations

from ahsd_config.findings import FileReport

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, path: str, line: int, column: int, title: str, message: str) -> str:
    props = ",".join([
        f"file={escape_property(path)}", f"line={line}", f"col={column}", f"title={escape_property(title)}",
    ])
    return f"::{level} {props}::{escape_data(message)}"


def render(reports: list[FileReport]) -> str:
    lines = []
    for report in reports:
        if report.error is not None:
            err = report.error
            lines.append(command("error", report.path, err.line, err.column, "ahsd-config: unreadable", err.message))
        for f in report.findings:
            message = f"{f.message}\n{f.hint}" if f.hint else f.message
            lines.append(command(_LEVEL[f.severity], report.path, f.line, f.column, f.code, message))
    return "".join(line + "\n" for line in lines)
