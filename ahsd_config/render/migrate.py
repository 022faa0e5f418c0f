"""The migrations room as text: `diff` (text, JSON, markdown), `migrate`, `current`, `heads`,
`history` and `log` lines. The CLI prints them."""

from __future__ import annotations

from ahsd_config.api.migrations import DiffResult, KeyDiff
from ahsd_config.values import show

_MARK = {"added": "+", "removed": "-", "changed": "~"}
_STYLE = {"added": "green", "removed": "red", "changed": "yellow"}


def _line(c: KeyDiff) -> str:
    if c.kind == "added":
        return f"{c.key}: {show(c.new)}"
    if c.kind == "removed":
        return f"{c.key}: {show(c.old)}"
    if c.returned:
        return f"{c.key}: {show(c.old)} (moved and came back)"
    return f"{c.key}: {show(c.old)} -> {show(c.new)}"


def text(result: DiffResult, console, hidden: list[str] = ()) -> None:
    from rich.markup import escape

    head = f"{result.a} -> {result.b}: {sum(not c.returned for c in result.changes)} key(s) differ"
    console.print(escape(head))
    for c in result.changes:
        style = "cyan" if c.returned else _STYLE[c.kind]
        console.print(f"[{style}]{_MARK[c.kind]} {escape(_line(c))}[/{style}]")
        for s in c.steps:
            console.print(escape(f"    {s.label} ({s.date[:10]}): {show(s.old)} -> {show(s.new)}"))
            console.print(escape(f"        why: {s.rationale}"))
        for r in c.rules:
            console.print(escape(f"    rule: {r}"))
    if hidden:
        console.print(escape(f"{len(hidden)} key(s) moved and came back ({', '.join(hidden)}); --history shows their steps"))


def json_text(result: DiffResult) -> str:
    """PRODUCT.md's `diff --format json` contract."""
    import json

    return json.dumps(result.to_json(), indent=2, allow_nan=False)


def markdown(result: DiffResult) -> str:
    lines = [f"### Config changes `{result.a}` -> `{result.b}`", "",
             "| key | change | old | new | revision | why |", "|---|---|---|---|---|---|"]
    for c in result.changes:
        kind = "came back" if c.returned else c.kind
        first = True
        for s in c.steps or [None]:
            rev = f"`{s.label}`" if s else ""
            why = s.rationale.replace("|", "\\|") if s else ""
            old = show(s.old if s else c.old)
            new = show(s.new if s else c.new)
            lines.append(f"| `{c.key}` | {kind if first else ''} | {old} | {new} | {rev} | {why} |")
            first = False
        for r in c.rules:
            lines.append(f"| `{c.key}` | rule | | | | {r} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ migrate, current, history, log


def conflict_lines(plan, on_conflict: str | None) -> list[str]:
    return [f"conflict ({on_conflict}): {c.describe()}" for c in plan.result.conflicts]


def dry_run_text(file: str, plan) -> str:
    return plan.diff or f"{file} is at {plan.target} already; nothing to change"


def migrated_line(file: str, result) -> str:
    p = result.plan
    how = " (inferred: exact match)" if p.inferred else ""
    verb = "migrated" if result.written else "unchanged"
    return f"{file}: {verb} {p.source}{how} -> {p.target}, {len(p.steps)} step(s)"


def current_line(inf) -> str:
    if inf.stamped:
        note = "" if inf.exact else f" ({len(inf.differing)} keys differ from its state: {', '.join(inf.differing[:8])})"
        return f"{inf.revision} (stamped){note}"
    if inf.exact:
        return f"{inf.revision} (not stamped; exact match)"
    return (f"{inf.revision} (not stamped; nearest: {len(inf.differing)} keys differ: "
            f"{', '.join(inf.differing[:8])})")


def heads_lines(revs) -> list[str]:
    return [f"{rev.id}  {rev.date[:10]}  {rev.title}" for rev in revs]


def history_lines(revs, brief: bool) -> list[str]:
    """The chain oldest first: id, parents, date, title; unless `brief`, every change and its why."""
    lines = []
    for rev in revs:
        parents = ", ".join(rev.parents) or "base"
        lines.append(f"{rev.id}  <- {parents}  {rev.date[:16]}  {rev.title}")
        if not brief:
            lines += [f"    {describe_change(c)}\n        why: {c.rationale}" for c in rev.changes]
    return lines


def describe_change(c) -> str:
    if c.op == "set":
        return f"set {c.key}: {show(c.old)} -> {show(c.new)}"
    if c.op == "add":
        return f"add {c.key} = {show(c.value)}"
    if c.op == "remove":
        return f"remove {c.key} (was {show(c.old)})"
    if c.op == "rename":
        return f"rename {c.key} -> {c.to}"
    return f"transform {c.name} {show(c.args)}"


def log_lines(steps) -> list[str]:
    return [f"{s.revision:9} {s.date[:10]}  {show(s.old)} -> {show(s.new)}\n          why: {s.rationale}"
            for s in steps]


def revision_written_line(rev) -> str:
    return (f"wrote {rev.path} ({len(rev.changes)} changes); replace each "
            f"'TODO: explain why' with the reason before committing")


def revision_stamped_line(source: str, rid: str) -> str:
    return f"{source}: stamped {rid} (validate refuses it, AHSD402, until the rationales are written)"
