"""`ahsd-config validate` without Typer: its options, declared ONCE (the Typer command in
`cli/validate.py` is built from the same table), the parser of a plain call, and the run.

Start-up cost matters (`validate` runs on every editor save): Typer and rich together cost
~100 ms to import, more than the validation itself. So `main()` runs a plain `ahsd-config validate
PATH... [--format F] [--fail-on S] [--output FILE]` through here; anything else (help, a
malformed option) goes through Typer, which owns usage messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ahsd_config.cli.shell import stderr_line, write_output
from ahsd_config.findings import SEVERITIES
from ahsd_config.render import FORMATS


@dataclass(frozen=True)
class Option:
    field: str  # the parameter name
    flags: tuple[str, ...]
    choices: tuple[str, ...] | None  # None: any value (a path)
    default: str | None
    metavar: str
    help: str


VALIDATE_OPTIONS: dict[str, Option] = {o.field: o for o in (
    Option("fmt", ("--format", "-f"), FORMATS, "text", "|".join(FORMATS), "Output format."),
    Option("fail_on", ("--fail-on",), SEVERITIES, "error", "|".join(SEVERITIES),
           "Exit 1 at findings of this severity or worse."),
    Option("output", ("--output", "-o"), None, None, "FILE", "Write the report here instead of stdout."),
)}
_BY_FLAG = {flag: o for o in VALIDATE_OPTIONS.values() for flag in o.flags}


def run_validate(paths: list[str], fmt: str = "text", fail_on: str = "error", output: Path | None = None) -> int:
    """`ahsd-config validate`: validate, render, print read errors on stderr; return the exit code.

    Shared by the Typer command and the fast path in `main()`. Raises `UsageError` (a glob that
    matches nothing) like any library call.
    """
    from ahsd_config.api.validate import validate_files
    from ahsd_config.render import render

    from ahsd_config.input.project import refuse_report_over_input

    result = validate_files(paths)
    refuse_report_over_input(output, "--output", [report.path for report in result.reports])
    write_output(render(fmt, result.reports), output)
    for message in result.input_errors:
        stderr_line(message)
    return result.exit_code(fail_on)


def parse_plain_validate(args: list[str]) -> dict[str, Any] | None:
    """Options of a plain `validate` call, or None when Typer should parse it (help, odd input)."""
    options: dict[str, Any] = {"paths": [], **{o.field: o.default for o in VALIDATE_OPTIONS.values()}}
    rest = iter(args)
    for arg in rest:
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _BY_FLAG:
            value = value if eq else next(rest, None)
            if value is None:
                return None
            option = _BY_FLAG[name]
            if option.choices is not None and value not in option.choices:
                return None
            options[option.field] = Path(value) if option.field == "output" else value
        elif arg.startswith("-"):
            return None
        else:
            options["paths"].append(arg)
    return options if options["paths"] else None
