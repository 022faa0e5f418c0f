"""Renderings of a `GateResult`: text, GitHub annotations, a markdown summary, SARIF.

Pure functions from the result to strings/dicts; the CLI decides where they go. GitHub shows only
about 10 annotations of each type per step, so `github_annotations` puts findings on lines the pull
request touched first and, past the cap, ends with one annotation that says how many more are in
the job summary (which lists every finding).
"""

from __future__ import annotations

from typing import Any

from ahsd_config.render.github_format import command, escape_data
from ahsd_config.findings import Finding
from ahsd_config.gate.result import CHECKS, GateResult, KeyChange
from ahsd_config.values import show

ANNOTATIONS_PER_TYPE = 10
_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}  # as the validate formatter maps them


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _range(result: GateResult) -> str:
    return result.subject


def headline(result: GateResult) -> str:
    if result.nothing_to_check:
        return (f"gate passed: no config or revision changes in {_range(result)}, nothing to check "
                f"({result.seconds:.2f} s)")
    if result.passed:
        return f"gate passed: {len(result.checks)} checks ({result.seconds:.2f} s)"
    failed = [c for c in result.checks if not c.passed]
    errors = sum(1 for f in result.findings if f.severity == "error")
    return (f"gate FAILED: {len(failed)} of {len(result.checks)} checks failed "
            f"({', '.join(c.name for c in failed)}), {_plural(errors, 'error')}")


def location(f: Finding) -> str:
    return f"{f.path}:{f.line}:{f.column}"


def render_text(result: GateResult) -> str:
    """What a person reads in a terminal or a CI log."""
    if result.label:
        head = f"; head {result.head_revision}" if result.head_revision else ""
        lines = [f"ahsd-config check-migrations {result.label}",
                 f"revisions: {len(result.revisions_added)}{head}"]
    else:
        lines = [f"ahsd-config ci {_range(result)} (merge base {result.merge_base[:12]})"]
    if not result.nothing_to_check and not result.label:
        lines.append(f"configs changed: {', '.join(result.configs) or 'none'}")
        head = f"; head {result.head_revision}" if result.head_revision else ""
        lines.append(f"revisions added: {', '.join(result.revisions_added) or 'none'}{head}")
    if not result.nothing_to_check:
        lines.append("")
        for check in result.checks:
            lines.append(f"  {'PASS' if check.passed else 'FAIL'}  {check.name}: {check.title}")
            for f in check.findings:
                lines.append(f"        {location(f)} {f.code} {f.severity} {f.message}")
                if f.hint:
                    lines.append(f"          fix: {f.hint}")
            lines.extend(f"        note: {n}" for n in check.notes)
        if result.changes:
            lines += ["", "changed values:"]
            for c in result.changes:
                lines.append(f"  {c.path}: {c.key}  {show(c.old)} -> {show(c.new)}  {_explained_by(c)}")
    lines += ["", headline(result)]
    return "\n".join(lines) + "\n"


def _explained_by(c: KeyChange) -> str:
    if not c.recorded and not c.steps:
        return "[not recorded]"
    said = "; ".join(f"{s.revision}: {s.rationale.strip() or '(no rationale)'}" for s in c.steps)
    return said if c.recorded else f"[does not match the revisions] {said}"


# ------------------------------------------------------------------------------------ GitHub


def ordered_for_review(result: GateResult) -> list[Finding]:
    """Findings on lines the pull request touched first, then the rest; stable otherwise."""
    def touched(f: Finding) -> bool:
        return f.line in result.touched.get(f.path, ())

    return sorted(result.findings, key=lambda f: not touched(f))


def github_annotations(result: GateResult, per_type: int = ANNOTATIONS_PER_TYPE) -> list[str]:
    """Workflow commands (`::error file=...,line=...::message`), at most `per_type` of each type."""
    by_type: dict[str, list[Finding]] = {}
    for f in ordered_for_review(result):
        by_type.setdefault(_LEVEL.get(f.severity, "notice"), []).append(f)
    out: list[str] = []
    for level, findings in by_type.items():
        shown = findings if len(findings) <= per_type else findings[: per_type - 1]
        for f in shown:
            message = f.message + (f"\n{f.hint}" if f.hint else "")
            out.append(command(level, f.path, f.line, f.column, f"{f.code} {f.check}", message))
        if len(shown) < len(findings):
            more = len(findings) - len(shown)
            out.append(f"::{level} title=ahsd-config ci::" + escape_data(
                f"{more} more {level}s are not annotated here (GitHub shows {per_type} per type); "
                "every finding is in the job summary"))
    return out


def render_github(result: GateResult) -> str:
    return "\n".join(github_annotations(result) + [render_text(result)])


# ------------------------------------------------------------------------------- markdown


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else show(value)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _code(value: Any) -> str:
    return f"`{_cell(value)}`"


def render_summary(result: GateResult) -> str:
    """The review a human reads: verdicts, changed keys old -> new with revision and rationale, findings."""
    icon = "✅" if result.passed else "❌"
    lines = [f"## {icon} ahsd-config ci: {headline(result)}", ""]
    if result.nothing_to_check:
        return "\n".join(lines + [f"No file under the config globs or the migrations folder changed in `{_range(result)}`.", ""])
    lines.append(f"Range `{_range(result)}` · configs changed: {', '.join(_code(p) for p in result.configs) or 'none'} "
                 f"· revisions added: {', '.join(_code(r) for r in result.revisions_added) or 'none'}"
                 + (f" · head `{result.head_revision}`" if result.head_revision else ""))
    lines += ["", "| check | verdict |", "|---|---|"]
    for check in result.checks:
        errors = sum(1 for f in check.findings if f.severity == "error")
        verdict = "✅" if check.passed else "❌ " + _plural(errors, "error")
        lines.append(f"| {check.title} | {verdict} |")
    if result.changes:
        lines += ["", "### Changed values", "", "| file | key | old | new | revision | rationale |", "|---|---|---|---|---|---|"]
        for c in result.changes:
            revisions = "<br>".join(f"{s.revision}: {_cell(s.old)} → {_cell(s.new)}" for s in c.steps) or "**not recorded**"
            rationale = "<br>".join(_cell(s.rationale) or "*(none)*" for s in c.steps) or "—"
            if not c.recorded and c.steps:
                revisions += "<br>**does not match the file**"
            lines.append(f"| {_cell(c.path)} | {_code(c.key)} | {_code(c.old)} | {_code(c.new)} | {revisions} | {rationale} |")
    findings = ordered_for_review(result)
    if findings:
        lines += ["", f"### Findings ({len(findings)})", "", "| where | code | message | fix |", "|---|---|---|---|"]
        for f in findings:
            lines.append(f"| {_code(location(f))} | {f.code} {f.severity} | {_cell(f.message)} | {_cell(f.hint)} |")
    notes = [n for c in result.checks for n in c.notes]
    if notes:
        lines += ["", *(f"- {_cell(n)}" for n in notes)]
    return "\n".join(lines) + "\n\n"


# ----------------------------------------------------------------------------------- SARIF


def sarif_text(result: GateResult) -> str:
    """The SARIF file's text (ASCII: non-ASCII as \\u escapes)."""
    import json

    return json.dumps(to_sarif(result), indent=2) + "\n"


def to_sarif(result: GateResult) -> dict[str, Any]:
    """SARIF 2.1.0 for GitHub code scanning: `ahsd-config validate`'s SARIF for the validation
    findings (its rules carry the why and the fix), with the gate's own findings and rules added."""
    from ahsd_config.findings import FileReport
    from ahsd_config.render import sarif_format
    from ahsd_config.rules import all_rules

    known = {rule.code for rule in all_rules()}
    by_path: dict[str, list[Finding]] = {}
    for f in result.findings:
        if f.code in known:
            by_path.setdefault(f.path, []).append(f)
    sarif = sarif_format.sarif_log([FileReport(p, tuple(fs)) for p, fs in by_path.items()])
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    for f in result.findings:
        if f.code in known:
            continue
        if f.code not in index:
            index[f.code] = len(rules)
            rules.append({
                "id": f.code,
                "name": "Gate" + "".join(w.capitalize() for w in f.check.split("-")),
                "shortDescription": {"text": CHECKS.get(f.check, f.check)},
                "help": {"text": f.hint or CHECKS.get(f.check, f.check)},
                "properties": {"tags": ["gate"]},
            })
        run["results"].append({
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": {"info": "note"}.get(f.severity, f.severity),
            "message": {"text": f"{f.message}. Hint: {f.hint}" if f.hint else f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": sarif_format.artifact_uri(f.path)},
                "region": {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)},
            }}],
            "properties": {"key": f.key, "check": f.check},
        })
    return sarif
