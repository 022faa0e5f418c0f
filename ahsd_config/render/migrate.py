"""Text and markdown renderings of a `DiffResult` (the CLI prints them; the gate may reuse them)."""

from __future__ import annotations

from ahsd_config.api.migrations import DiffResult, KeyDiff
from ahsd_config.migrate.errors import show_value

_MARK = {"added": "+", "removed": "-", "changed": "~"}
_STYLE = {"added": "green", "removed": "red", "changed": "yellow"}


def _line(c: KeyDiff) -> str:
    if c.kind == "added":
        return f"{c.key}: {show_value(c.new)}"
    if c.kind == "removed":
        return f"{c.key}: {show_value(c.old)}"
    if c.returned:
        return f"{c.key}: {show_value(c.old)} (moved and came back)"
    return f"{c.key}: {show_value(c.old)} -> {show_value(c.new)}"


def text(result: DiffResult, console, hidden: list[str] = ()) -> None:
    from rich.markup import escape

    head = f"{result.a} -> {result.b}: {sum(not c.returned for c in result.changes)} key(s) differ"
    console.print(escape(head))
    for c in result.changes:
        style = "cyan" if c.returned else _STYLE[c.kind]
        console.print(f"[{style}]{_MARK[c.kind]} {escape(_line(c))}[/{style}]")
        for s in c.steps:
            console.print(escape(f"    {s.revision} ({s.date[:10]}): {show_value(s.old)} -> {show_value(s.new)}"))
            console.print(escape(f"        why: {s.rationale}"))
        for r in c.rules:
            console.print(escape(f"    rule: {r}"))
    if hidden:
        console.print(escape(f"{len(hidden)} key(s) moved and came back ({', '.join(hidden)}); --history shows their steps"))


def markdown(result: DiffResult) -> str:
    lines = [f"### Config changes `{result.a}` -> `{result.b}`", "",
             "| key | change | old | new | revision | why |", "|---|---|---|---|---|---|"]
    for c in result.changes:
        kind = "came back" if c.returned else c.kind
        first = True
        for s in c.steps or [None]:
            rev = f"`{s.revision}`" if s else ""
            why = s.rationale.replace("|", "\\|") if s else ""
            old = show_value(s.old if s else c.old)
            new = show_value(s.new if s else c.new)
            lines.append(f"| `{c.key}` | {kind if first else ''} | {old} | {new} | {rev} | {why} |")
            first = False
        for r in c.rules:
            lines.append(f"| `{c.key}` | rule | | | | {r} |")
    return "\n".join(lines) + "\n"
