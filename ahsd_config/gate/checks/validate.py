"""The `validate` check: a changed config reads (AHSD608) and has no error finding (the rules'
codes); a watched config is not deleted (AHSD611)."""

from __future__ import annotations

from ahsd_config.errors import InputError
from ahsd_config.gate.context import GateRun
from ahsd_config.gate.git import ChangedPath
from ahsd_config.gate.result import CONFIG_DELETED, UNREADABLE, GateResult
from ahsd_config.input.loader import YamlDocument, load_text


def report_deleted(result: GateResult, configs: list[ChangedPath]) -> None:
    for c in configs:
        if c.status == "D":
            result.add("validate", c.path, CONFIG_DELETED,
                       f"{c.path} is a config the gate watches and this pull request deletes it",
                       hint="keep the file; to stop watching it, change [tool.ahsd] config_globs in a pull "
                            "request of its own")


def load_config(run: GateRun, path: str, text: str | None, side: str, quiet: bool = False) -> YamlDocument | None:
    """The config text as a document, or None (with a finding unless `quiet`)."""
    try:
        return load_text(text or "", path)
    except InputError as exc:
        if not quiet:
            run.add("validate", path, UNREADABLE, f"{path} at {side} cannot be read: {exc.message}",
                    line=exc.position.line, column=exc.position.column,
                    hint=f"run `ahsd-config validate {path}` locally")
        return None


def check_findings(run: GateRun, path: str, doc: YamlDocument) -> None:
    """validate's error findings, as the gate's (same code, message, position, fix)."""
    from ahsd_config.api.validate import validate_document

    for f in validate_document(doc).findings:
        if f.severity == "error":
            run.add("validate", path, f.code, f.message, key=f.key, line=f.line, column=f.column, hint=f.hint)
