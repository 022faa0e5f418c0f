"""The library entry point for programs that run a config (the trainer): load, override, validate.

    loaded = load_config("configs/enhanced_training.yaml", ["priority_net.batch_size=32"])
    model = PriorityNet(loaded.config.priority_net)

`load_config` raises `ConfigInvalid` (exit 2) when any error finding remains, so a bad config is
refused before anything touches a device.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ahsd_config.findings import FileReport
from ahsd_config.errors import ConfigInvalid, UsageError
from ahsd_config.input.loader import YamlDocument, format_key, load_file, load_text, parse_key

if TYPE_CHECKING:
    from ahsd_config.schema import TrainingConfig


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and where it came from (for run records and checkpoints)."""

    config: "TrainingConfig | None"  # None only with refuse_errors=False and a schema failure
    report: FileReport
    document: YamlDocument
    revision: str | None
    sha256: str  # of the file's text before overrides


def load_config(path: str | Path, overrides: Sequence[str] = (), refuse_errors: bool = True) -> LoadedConfig:
    """Load `path`, apply `key=value` overrides, validate; raise `ConfigInvalid` on error findings
    unless `refuse_errors` is False (the trainer's `--force`, which records that it ran anyway)."""
    from ahsd_config.api.validate import check_document

    doc = load_file(path)
    digest = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    apply_overrides(doc.data, overrides)
    report, config = check_document(doc)
    report = _mark_overridden(report, overrides)
    errors = [f for f in report.findings if f.severity == "error"]
    if refuse_errors and (errors or config is None):
        lines = [f"{report.path}:{f.line}:{f.column} {f.code} {f.message}" for f in errors]
        raise ConfigInvalid(
            f"{path} has {len(errors)} error finding(s); the run was not started:\n" + "\n".join(lines),
            [report],
        )
    return LoadedConfig(config, report, doc, config.revision if config is not None else None, digest)


def _mark_overridden(report: FileReport, overrides: Sequence[str]) -> FileReport:
    """A finding about an overridden key points at the file's line, but the value came from the
    command line: say so, or the researcher hunts for a 6 in a file that says 64."""
    keys = {item.partition("=")[0].strip(): item for item in overrides}
    if not keys:
        return report
    marked = tuple(replace(f, message=f"{f.message} [value from --set {keys[f.key]}]") if f.key in keys else f
                   for f in report.findings)
    return replace(report, findings=marked)


def apply_overrides(data: Any, overrides: Sequence[str]) -> None:
    """Set each `dotted.key=value` in place; the value is read as a YAML scalar or flow collection.

    Only keys the schema knows may be set (they need not be written in the file yet); an unknown
    key is a `UsageError` naming the closest known key.
    """
    for item in overrides:
        dotted, sep, raw = item.partition("=")
        dotted = dotted.strip()
        if not sep or not dotted:
            raise UsageError(f"override {item!r} is not KEY=VALUE (e.g. priority_net.batch_size=24)")
        path = parse_key(dotted)
        _check_known(dotted)
        _set(data, path, _parse_value(raw, item))


def _parse_value(raw: str, item: str) -> Any:
    from ahsd_config.errors import InputError

    try:
        doc = load_text(f"value: {raw}\n", f"override {item!r}")
    except InputError as exc:
        raise UsageError(f"override {item!r}: the value is not valid YAML ({exc.message})") from None
    return doc.data["value"]


def _check_known(dotted: str) -> None:
    from ahsd_config.schema import all_dotted_keys, field_info

    try:
        field_info(dotted)
    except KeyError:
        close = difflib.get_close_matches(dotted, list(all_dotted_keys()), n=1, cutoff=0.6)
        hint = f"; did you mean `{close[0]}`?" if close else "; `ahsd-config explain KEY` lists keys"
        raise UsageError(f"cannot override unknown key `{dotted}`{hint}") from None


def _set(data: Any, path: tuple, value: Any) -> None:
    node = data
    for depth, part in enumerate(path[:-1]):
        child = node.get(part) if isinstance(node, dict) else None
        if child is None:
            child = {}
            node[part] = child
        if not isinstance(child, dict):
            raise UsageError(f"cannot set `{format_key(path)}`: `{format_key(path[:depth + 1])}` is not a section")
        node = child
    node[path[-1]] = value
