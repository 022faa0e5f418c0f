"""`path:line:col CODE severity message`, an indented `hint:` line, and a summary line.

The first line is the format editors and `grep` understand (compiler-style), so a click in a
terminal or a quickfix list jumps to the key.
"""

from __future__ import annotations

from ahsd_config.errors import one_line  # one finding, one line: a newline in a name or key as `\n`
from ahsd_config.findings import FileReport


def render(reports: list[FileReport]) -> str:
    lines: list[str] = []
    for report in reports:
        if report.error is not None:
            continue  # the CLI prints read errors on stderr, where errors belong
        for f in report.findings:
            lines.append(f"{one_line(report.path)}:{f.line}:{f.column} {f.code} {f.severity} {one_line(f.message)}")
            if f.hint:
                lines.append(f"    hint: {one_line(f.hint)}")
    lines.append(summary(reports))
    return "\n".join(lines) + "\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 or word == "info" else f"{n} {word}s"


def summary(reports: list[FileReport]) -> str:
    """`2 files checked: 1 error, 3 warnings, 7 info (1 suppressed, 1 unreadable)`."""
    counts = [sum(r.count(s) for r in reports) for s in ("error", "warning", "info")]
    text = (f"{_plural(len(reports), 'file')} checked: {_plural(counts[0], 'error')}, "
            f"{_plural(counts[1], 'warning')}, {_plural(counts[2], 'info')}")
    extra = []
    suppressed = sum(len(r.suppressed) for r in reports)
    unreadable = sum(1 for r in reports if r.error is not None)
    if suppressed:
        extra.append(f"{suppressed} suppressed")
    if unreadable:
        extra.append(f"{unreadable} unreadable")
    return text + (f" ({', '.join(extra)})" if extra else "")
