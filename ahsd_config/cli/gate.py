"""`ahsd-config` commands of the gate room: `ci` and `check-migrations`."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ahsd_config.cli.shell import reports_errors, safe_text, stdout


class GateFormat(str, Enum):
    text = "text"
    github = "github"


@reports_errors
def ci(
    base: str = typer.Option(..., "--base", metavar="REF", help="The pull request's target, e.g. origin/main (merge-base semantics: base...head)."),
    head: str = typer.Option("HEAD", "--head", metavar="REF", help="The pull request's tip."),
    fmt: GateFormat = typer.Option(GateFormat.text, "--format", metavar="text|github", help="text, or github: workflow annotations on the lines the pull request touched first, then the text report."),
    sarif: Optional[Path] = typer.Option(None, "--sarif", metavar="FILE", help="Also write the findings as SARIF 2.1.0 to this file (for code scanning)."),
    summary: Optional[Path] = typer.Option(None, "--summary", metavar="FILE", help="Append a markdown review (changed keys, old -> new, revision, rationale) to this file; defaults to $GITHUB_STEP_SUMMARY when set."),
    repo: Path = typer.Option(Path("."), "--repo", metavar="DIR", help="The git checkout to gate (any folder inside it)."),
) -> None:
    """Gate a config pull request: validates, stamped at head, every changed value recorded with a rationale."""
    from ahsd_config.gate.result import GateFailed
    from ahsd_config.gate.run import run_gate
    from ahsd_config.input.files import append_text, atomic_write
    from ahsd_config.input.project import refuse_report_over_input
    from ahsd_config.render import gate as report

    summary_path = summary or os.environ.get("GITHUB_STEP_SUMMARY") or None
    for option, target in (("--sarif", sarif), ("--summary" if summary else "GITHUB_STEP_SUMMARY", summary_path)):
        refuse_report_over_input(target, option, starts=(None, repo))  # before the gate runs: nothing written
    result = run_gate(repo, base, head)
    text = report.render_github(result) if fmt is GateFormat.github else report.render_text(result)
    stdout.print(safe_text(text), markup=False, end="")
    if sarif is not None:
        atomic_write(sarif, report.sarif_text(result))
    if summary_path:
        append_text(summary_path, safe_text(report.render_summary(result)))
    if not result.passed:
        raise typer.Exit(GateFailed.exit_code)  # the report's last line said why: print it once


@reports_errors
def check_migrations(
    directory: Optional[Path] = typer.Argument(None, metavar="[DIR]", help="The revisions folder (default: [tool.ahsd] migrations, else migrations/)."),
) -> None:
    """Check a revisions folder: one head, a real rationale per change, every revision applies and reverts."""
    from ahsd_config.render import gate as report
    from ahsd_config.gate.result import GateFailed
    from ahsd_config.gate.run import check_chain

    result = check_chain(directory)
    stdout.print(report.render_text(result), markup=False, end="")
    if not result.passed:
        raise typer.Exit(GateFailed.exit_code)  # the report's last line said why: print it once


def register(app: typer.Typer) -> None:
    app.command("ci")(ci)
    app.command("check-migrations")(check_migrations)
