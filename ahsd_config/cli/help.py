"""`--help` the way git, ruff and pre-commit print it: `FILE`, `[REV]`, `PATH...`, no `{file}` or
`<list[str]>` type tags. Both CLIs pass their Typer app through `plain_help` after registering
their commands; options name their value with `metavar=` (a test walks every command's help)."""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand


def _argument_name(param: Any) -> str:
    name = param.metavar or param.name.upper()
    if param.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name if param.required else f"[{name.strip('[]')}]"


class PlainHelpCommand(TyperCommand):
    """A Typer command whose usage line and argument list show plain metavars."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_argument_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                args.append((_argument_name(param).strip("[]"), record[1]))
            else:
                opts.append(record)
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def plain_help(app: Any) -> Any:
    """Give every registered command of `app` (and of its sub-apps) the plain help; commands that
    chose their own class keep it. Idempotent: call it again after adding commands."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = PlainHelpCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            plain_help(group.typer_instance)
    return app
