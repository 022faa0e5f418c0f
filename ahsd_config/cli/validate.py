"""`ahsd-config validate`, `explain` and `schema`: parse -> call the library -> render -> exit code."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ahsd_config.cli.plain import VALIDATE_OPTIONS, run_validate
from ahsd_config.cli.shell import reports_errors, stderr_line, write_output

_FMT, _FAIL_ON, _OUTPUT = (VALIDATE_OPTIONS[name] for name in ("fmt", "fail_on", "output"))
OutputFormat = Enum("OutputFormat", {c: c for c in _FMT.choices}, type=str)  # type: ignore[misc]
FailOn = Enum("FailOn", {c: c for c in _FAIL_ON.choices}, type=str)  # type: ignore[misc]


def _option(option, default):
    return typer.Option(default, *option.flags, metavar=option.metavar, help=option.help)


@reports_errors
def validate(
    paths: Optional[List[str]] = typer.Argument(
        None, metavar="PATH...",
        help="Config files or globs (quote globs: 'configs/**/*.yaml'); none: the project's "
             "[tool.ahsd] config_globs, like `ruff check` with no path."),
    format: OutputFormat = _option(_FMT, OutputFormat(_FMT.default)),
    fail_on: FailOn = _option(_FAIL_ON, FailOn(_FAIL_ON.default)),
    output: Optional[Path] = _option(_OUTPUT, None),
) -> None:
    """Check configs against the schema and the rules; exit 0 clean, 1 findings, 2 unreadable input."""
    raise typer.Exit(run_validate(paths or project_configs(), format.value, fail_on.value, output))


def project_configs() -> list[str]:
    """`validate` without a path: the project's config_globs, as paths relative to here."""
    import glob
    import os

    from ahsd_config.input.project import require_project

    project = require_project(needs="pass the config files to validate")
    root = os.path.relpath(project.root)
    return [g if root == "." else os.path.join(glob.escape(root), g) for g in project.settings.config_globs]


@reports_errors
def explain(
    subject: str = typer.Argument(..., metavar="CODE|KEY", help="A rule code (AHSD101) or a dotted key (priority_net.batch_size)."),
) -> None:
    """Print a rule's why, fix and examples, or a key's meaning, type, bounds and default."""
    from ahsd_config.api.explain import explain_text

    write_output(explain_text(subject), None)


@reports_errors
def schema(
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="FILE",
        help="Where the JSON Schema goes; '-' prints it (default: schemas/enhanced_training.schema.json "
             "in the project found above the working directory)."),
    check: bool = typer.Option(False, "--check", help="Only compare; exit 1 when the file is stale."),
) -> None:
    """Write the JSON Schema of the training YAML (for editors and check-jsonschema)."""
    from ahsd_config.input.project import require_project
    from ahsd_config.schema.schemagen import DEFAULT_SCHEMA_PATH, render_json_schema, write_json_schema

    if output is None:
        root = require_project(needs="the schema's default place is schemas/ in the project; pass "
                                     "--output FILE (or -o - to print it)").root
        output = root / DEFAULT_SCHEMA_PATH
    if str(output) == "-":
        typer.echo(render_json_schema(), nl=False)
        return
    if check:
        if not output.exists():  # like a stale file: --check exits 1 when writing would change it
            stderr_line(f"{output} does not exist; create it with `ahsd-config schema --output {output}`")
            raise typer.Exit(1)
        from ahsd_config.input.loader import read_text

        if read_text(output) == render_json_schema():  # bounded: never blocks on a FIFO
            write_output(f"{output} is up to date\n", None)
            return
        stderr_line(f"{output} is stale; run `ahsd-config schema --output {output}`")
        raise typer.Exit(1)
    from ahsd_config.input.project import refuse_report_over_input

    refuse_report_over_input(output, "--output")
    write_json_schema(output)
    write_output(f"wrote {output}\n", None)


def register(app: typer.Typer) -> None:
    for command in (validate, explain, schema):
        app.command()(command)
