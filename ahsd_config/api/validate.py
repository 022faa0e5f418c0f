"""The validation pipeline: schema (pydantic) findings, then the rules, then suppressions.

`validate_path(path) -> FileReport` raises only `InputError` (unreadable, malformed, unsafe input);
everything that parses becomes findings with the 1-based line/column of the offending key.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ahsd_config.findings import FileError, FileReport, Finding, Suppressed, exit_code
from ahsd_config.errors import InputError, UsageError
from ahsd_config.input.loader import KeyPath, YamlDocument, format_key, load_file, paused_gc
from ahsd_config.input.suppression import parse_suppression
from ahsd_config.values import show

if TYPE_CHECKING:
    from ahsd_config.schema import TrainingConfig

# pydantic error types, by the finding code they become
_MISSING = {"missing"}
_UNKNOWN = {"extra_forbidden"}
_OUT_OF_RANGE = {
    "greater_than", "greater_than_equal", "less_than", "less_than_equal", "multiple_of",
    "finite_number", "literal_error", "enum", "string_pattern_mismatch", "too_short", "too_long",
    "string_too_short", "string_too_long", "value_error", "assertion_error",
}


def validate_path(path: str | Path) -> FileReport:
    """Load and validate one file. Raises `InputError` when it cannot be read or parsed."""
    return validate_document(load_file(path))


def validate_document(doc: YamlDocument) -> FileReport:
    """Schema findings and rule findings of a loaded document, sorted by position."""
    report, _ = check_document(doc)
    return report


def check_document(doc: YamlDocument) -> tuple[FileReport, "TrainingConfig | None"]:
    """Like `validate_document`, also returning the frozen config when the schema accepted it."""
    from ahsd_config.rules.registry import RuleContext

    with paused_gc():  # a finding per unknown key: 20,000 objects that live on (see paused_gc)
        data = doc.plain()
        config, findings = schema_findings(doc, data)
        findings.extend(rule_findings(RuleContext(doc, data, config)))
        kept, suppressed = apply_suppressions(doc, findings)
        kept.extend(suppression_findings(doc, suppressed, schema_ok=config is not None))
        kept.sort(key=Finding.sort_key)
        suppressed.sort(key=lambda s: s.finding.sort_key())
    return FileReport(doc.path, tuple(kept), tuple(suppressed)), config


def rule_findings(ctx) -> list[Finding]:
    from ahsd_config.rules.registry import run_rules

    out = []
    for current, violation in run_rules(ctx):
        path = violation.key_path()
        line, column = violation.at or ctx.doc.position(path)
        severity = violation.severity or current.severity
        # An info needs no generic fix line under it (it would repeat on every unused key).
        hint = violation.hint or ("" if severity == "info" else current.fix)
        out.append(Finding(current.code, severity, violation.message, format_key(path), line, column, hint))
    return out


def apply_suppressions(doc: YamlDocument, findings: list[Finding]) -> tuple[list[Finding], list[Suppressed]]:
    """Split findings into kept and suppressed by `# ahsd: ignore[CODE] reason` on their line."""
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    for finding in findings:
        reasons = parse_suppression(doc.line_text(finding.line))
        if finding.code in reasons:
            suppressed.append(Suppressed(finding, reasons[finding.code]))
        else:
            kept.append(finding)
    return kept, suppressed


def suppression_findings(doc: YamlDocument, suppressed: list[Suppressed], schema_ok: bool) -> list[Finding]:
    """AHSD005 for a suppression without a reason; AHSD004 for one that suppressed nothing (only
    judged when the schema accepted the file: otherwise rules were skipped, not satisfied)."""
    used = {(s.finding.line, s.finding.code) for s in suppressed}
    out: list[Finding] = []
    for number, line in enumerate(doc.text.splitlines(), 1):
        if "ahsd:" not in line:
            continue
        for code, reason in parse_suppression(line).items():
            column = line.index("#") + 1 if "#" in line else 1
            if not reason:
                out.append(Finding("AHSD005", "warning", f"`# ahsd: ignore[{code}]` gives no reason",
                                   _key_at_line(doc, number), number, column,
                                   "write why after the bracket: # ahsd: ignore[CODE] reason"))
            if schema_ok and (number, code) not in used:
                out.append(Finding("AHSD004", "warning", f"`# ahsd: ignore[{code}]` suppresses nothing on "
                                   f"line {number}", _key_at_line(doc, number), number, column,
                                   "delete the comment, or correct the code it names"))
    return out


def _key_at_line(doc: YamlDocument, line: int) -> str:
    """The dotted key written on `line` ('' when the line holds no key)."""
    path = doc.key_at_line.get(line)
    return format_key(path) if path else ""


# --- schema findings ---------------------------------------------------------------------------


def schema_findings(doc: YamlDocument, data: Any) -> tuple["TrainingConfig | None", list[Finding]]:
    """Validate with pydantic; each error becomes one AHSD9xx finding at the key it concerns."""
    from pydantic import ValidationError

    from ahsd_config.schema import TrainingConfig

    try:
        return TrainingConfig.model_validate(data), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=True)
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    unknown = 0
    for error in errors:
        # Did-you-mean costs ~0.5 ms a key; past SUGGEST_UNKNOWN unknown keys the file is not a
        # typo, and suggesting for 20,000 of them would dominate the run.
        unknown += error["type"] in _UNKNOWN
        finding = finding_from_error(doc, data, error, suggest=unknown <= SUGGEST_UNKNOWN)
        if (finding.code, finding.key) not in seen:  # a union reports once per member
            seen.add((finding.code, finding.key))
            findings.append(finding)
    return None, findings


SUGGEST_UNKNOWN = 100


def finding_from_error(doc: YamlDocument, data: Any, error: dict[str, Any], suggest: bool = True) -> Finding:
    kind = error["type"]
    if kind == "invalid_key":
        return _non_name_key(doc, data, error)
    if kind in _UNKNOWN:
        path = tuple(error["loc"])
        code, message, hint = "AHSD901", *unknown_key_message(path, suggest)
    elif kind in _MISSING:
        path = tuple(error["loc"])
        code, message, hint = "AHSD904", *missing_key_message(path)
    else:
        path = data_path(data, tuple(error["loc"]))
        value = error.get("input")
        if kind in _OUT_OF_RANGE:
            code, message, hint = "AHSD903", *out_of_range_message(path, value, error)
        else:
            code, message, hint = "AHSD902", *wrong_type_message(path, value, error)
    line, column = doc.position(path)
    return Finding(code, "error", message, format_key(path) or "(top level)", line, column, hint)


def _non_name_key(doc: YamlDocument, data: Any, error: dict[str, Any]) -> Finding:
    """`true: x`, `1: x`, `~: x`, `.nan: x`: YAML made the key a boolean, number or null. pydantic's
    loc spells such a key as it likes (`1` for true, 'None'), so the key is named and placed from
    the document: the parent's path, and the key node whose value is this key."""
    parent = data_path(data, tuple(error["loc"])[:-1])
    key = error.get("input")
    spelled = show(key)
    line, column = doc.position(parent)
    for path, position in doc._key_pos.items():
        if len(path) == len(parent) + 1 and path[:-1] == parent and _same_key(path[-1], key):
            line, column = position
            written = re.match(r"[^\s:#,\]}]+", doc.line_text(line)[column - 1:])
            spelled = written.group() if written else spelled  # `0x1f` as written, not 31
            break
    dotted = format_key(parent + (spelled,))
    message = f"{dotted}: the key {spelled} is {_kind_of(key)} to YAML, not a name; config keys are names"
    return Finding("AHSD902", "error", message, dotted, line, column,
                   f"quote it ('{spelled}') if it is meant as a name, or remove it")


def _same_key(written: Any, key: Any) -> bool:
    """A key of the node tree (the loader keeps float keys as their text) is the data's `key`."""
    if isinstance(written, str):
        if not isinstance(key, float):
            return False
        from ahsd_config.input import yaml_c

        return yaml_c.resolve_plain(written).endswith(":float") and show(yaml_c._float(written)) == show(key)
    return type(written) is type(key) and written == key


def data_path(data: Any, loc: tuple) -> KeyPath:
    """The longest prefix of pydantic's `loc` that exists in the data (drops union-member tags)."""
    path: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
        path.append(part)
    return tuple(path)


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "null" if value is None else f"a {type(value).__name__}"


def _doc_for(path: KeyPath):
    from ahsd_config.schema import field_info

    dotted = ".".join(str(p) for p in path if not isinstance(p, int))
    try:
        return field_info(dotted)
    except KeyError:
        return None


def wrong_type_message(path: KeyPath, value: Any, error: dict[str, Any]) -> tuple[str, str]:
    key = format_key(path)
    info = _doc_for(path)
    expected = info.type if info is not None and not isinstance(path[-1] if path else None, int) else None
    if error["type"] in ("model_type", "model_attributes_type", "dict_type"):
        expected = "a mapping of keys (a section)"
    expected_text = f"expected {expected}" if expected else error["msg"][0].lower() + error["msg"][1:]
    message = f"{key} = {show(value, width=60)} is {_kind_of(value)}; {expected_text}"
    return message, _type_hint(value, error["type"])


def _type_hint(value: Any, kind: str) -> str:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lower() in ("yes", "no", "on", "off", "y", "n", "true", "false"):
            return "write true or false, unquoted"
        try:
            float(stripped)
            return f"remove the quotes: {stripped}"
        except ValueError:
            pass
    if kind == "int_from_float" or (isinstance(value, float) and kind.startswith("int")):
        return "write a whole number without a decimal point"
    return "write a value of the expected type (`ahsd-config explain KEY` shows it)"


def out_of_range_message(path: KeyPath, value: Any, error: dict[str, Any]) -> tuple[str, str]:
    key = format_key(path) or "(top level)"
    msg = error["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    elif msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, "):]
    if error["type"] == "finite_number":
        message = f"{key} = {show(value, width=60)} is not a finite number"
        return message, "write a finite number (.nan and .inf are refused)"
    msg = msg[0].lower() + msg[1:] if msg else msg
    message = f"{key} = {show(value, width=60)}: {msg}" if not isinstance(value, dict) else f"{key}: {msg}"
    info = _doc_for(path)
    if info is not None and info.bounds:
        return message, "allowed: " + ", ".join(f"{_BOUND_WORDS.get(k, k)} {v}" for k, v in info.bounds.items())
    return message, "use an allowed value (`ahsd-config explain KEY` shows the bounds)"


_BOUND_WORDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "min_length": "length >=",
                "max_length": "length <="}


def missing_key_message(path: KeyPath) -> tuple[str, str]:
    key = format_key(path)
    section = format_key(path[:-1]) or "the top level"
    info = _doc_for(path)
    description = f": {info.description}" if info is not None and info.description else ""
    return (f"{key} is missing from {section} and has no default",
            f"add `{path[-1]}:` under {section}{description}")


# --- unknown keys: did you mean ---------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _schema_keys() -> dict[str, Any]:
    """Read-only here; kept (all_dotted_keys copies its dict, and 20,000 unknown keys ask 20,000 times)."""
    from ahsd_config.schema import all_dotted_keys

    return all_dotted_keys()


@functools.lru_cache(maxsize=1024)
def schema_parent(path: KeyPath) -> str:
    """The schema's dotted name of a section path: concrete mapping keys become `*`."""
    keys = _schema_keys()
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            continue
        candidate = ".".join(parts + [str(part)])
        parts.append(str(part) if candidate in keys else "*")
    return ".".join(parts)


def fields_of(section: str) -> list[str]:
    """Field names the schema allows directly under a dotted section ('' = top level)."""
    prefix = f"{section}." if section else ""
    return [k[len(prefix):] for k in _schema_keys()
            if k.startswith(prefix) and "." not in k[len(prefix):] and k[len(prefix):] != "*"]


def sections_with(name: str, besides: str) -> list[str]:
    """Other sections in which `name` is a valid key (for 'belongs under `priority_net`')."""
    found = []
    for dotted in _schema_keys():
        parent, _, leaf = dotted.rpartition(".")
        if leaf == name and parent != besides and "*" not in parent:
            found.append(parent or "the top level")
    return found


def unknown_key_message(path: KeyPath, suggest: bool = True) -> tuple[str, str]:
    key = format_key(path)
    name = str(path[-1])
    section = schema_parent(path[:-1])
    where = f"`{format_key(path[:-1])}`" if path[:-1] else "the top level"
    message = f"{key} is not a known key of {where}"
    if not suggest:
        return message, f"delete it, or check `ahsd-config explain {format_key(path[:-1]) or 'KEY'}` for the known keys"
    import difflib  # here: only an unknown key needs it, and a clean file should not pay its import

    close = difflib.get_close_matches(name, fields_of(section), n=1, cutoff=0.6)
    elsewhere = sections_with(name, section)
    if elsewhere:
        home = elsewhere[0]
        message += f"; it belongs under `{home}`" if home != "the top level" else "; it belongs at the top level"
        return message, f"move it under `{home}`" if home != "the top level" else "move it to the top level"
    if close:
        message += f"; did you mean `{close[0]}`?"
        return message, f"rename it to `{close[0]}`"
    return message, f"delete it, or check `ahsd-config explain {format_key(path[:-1]) or 'KEY'}` for the known keys"


# --- several files, globs ----------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationRun:
    """Reports of one `validate` call; unreadable files keep a report with `error` set."""

    reports: list[FileReport]
    input_errors: list[str]  # `path:line:col: error: message`, one per unreadable file

    def exit_code(self, fail_on: str = "error") -> int:
        return exit_code(self.reports, fail_on)


_GLOB_MAGIC = re.compile(r"[*?[]")


def expand_paths(patterns: list[str]) -> list[str]:
    """Paths in argument order; globs expanded (sorted, `**` recursive). A glob matching nothing is
    a usage error; a plain path that does not exist is left for the loader to report."""
    out: list[str] = []
    for pattern in patterns:
        if _GLOB_MAGIC.search(pattern):  # glob.has_magic without importing glob for plain paths
            import glob

            matches = sorted(m for m in glob.glob(pattern, recursive=True) if not Path(m).is_dir())
            if not matches:
                raise UsageError(f"no file matches {pattern!r}")
            out.extend(matches)
        else:
            out.append(pattern)
    return list(dict.fromkeys(out))  # a file named twice is checked once


def validate_files(patterns: list[str]) -> ValidationRun:
    """Validate every file; an unreadable one is reported and the others are still checked."""
    reports, errors = [], []
    for path in expand_paths(patterns):
        try:
            reports.append(validate_path(path))
        except InputError as exc:
            pos = exc.position
            reports.append(FileReport(path, error=FileError(exc.message, pos.line, pos.column)))
            errors.append(exc.render())
    return ValidationRun(reports, errors)
