"""AHSD0xx: the file itself — revision stamp, duplicate keys, values YAML 1.1 reads differently.

The user's own pipeline reads the config with PyYAML, a YAML 1.1 reader; `ahsd-config` reads
YAML 1.2. Where the two disagree the same file means two different things, so each spot is a
warning with the exact rewrite both readers agree on.
"""

from __future__ import annotations

import re
from typing import Iterator

from ahsd_config.input.loader import format_key
from ahsd_config.rules.registry import RuleContext, Violation, describe, rule


@rule(
    code="AHSD001",
    severity="warning",
    title="missing revision stamp",
    why="Without `revision:` nobody can tell which migrations a file has had, so `ahsd-config "
    "migrate` cannot bring it to head and CI cannot check it is current.",
    fix="Stamp the file with the revision it matches: `ahsd-config stamp FILE REV` (or "
    "`ahsd-config migrate FILE --to head`).",
    bad="revision: <delete>\n",
    good="revision: v15\n",
)
def check_revision_stamp(ctx: RuleContext) -> Iterator[Violation]:
    if ctx.data.get("revision") is None:
        yield Violation(
            ("revision",),
            "no `revision:` stamp: the file's migration revision is unknown",
            hint="run `ahsd-config stamp FILE REV` with the revision the file matches, or "
            "`ahsd-config migrate FILE --to head`",
        )


@rule(
    code="AHSD002",
    severity="error",
    title="duplicate key",
    why="YAML readers disagree on duplicates (PyYAML keeps the last value, ahsd-config the "
    "first), so the value a run trains with depends on the tool that read the file.",
    fix="Delete one of the two lines, keeping the value you mean.",
    bad="priority_net:\n  batch_size: 24\n  batch_size: 32\n",
    good="priority_net:\n  batch_size: 24\n",
)
def check_duplicate_keys(ctx: RuleContext) -> Iterator[Violation]:
    for dup in ctx.doc.duplicates:
        path = _as_written(ctx, dup)
        yield Violation(
            path,
            f"{format_key(path)} is given twice (first on line {dup.first_line}); "
            f"ahsd-config keeps the first value, PyYAML the last",
            hint=f"delete this line or line {dup.first_line}, keeping the value you mean",
            at=(dup.line, dup.column),
        )


def _as_written(ctx: RuleContext, dup) -> tuple:
    """A duplicate is always a mapping key; one YAML made a number, a boolean or null (`1:`, `yes:`,
    `~:`) is named as written (`priority_net.1`, like AHSD902), never as a list index
    (`priority_net[1]`)."""
    key = dup.path[-1]
    if isinstance(key, str):
        return dup.path
    written = re.match(r"[^\s:#,\]}]+", ctx.doc.line_text(dup.line)[dup.column - 1:])
    return dup.path[:-1] + (written.group() if written else str(key),)


# What PyYAML (YAML 1.1) accepts as a float: a dot in the mantissa and a signed exponent.
_YAML11_FLOAT = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_YAML11_BOOL_WORDS = {"yes": "true", "on": "true", "y": "true", "no": "false", "off": "false", "n": "false"}
_LEADING_ZERO_INT = re.compile(r"^[-+]?0[0-9_]+$")
_YAML12_OCTAL = re.compile(r"^0o[0-7]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


def yaml11_float_rewrite(text: str) -> str:
    """`5e-3` -> `5.0e-3`, `1e5` -> `1.0e+5`: the spelling both YAML 1.1 and 1.2 read as a float."""
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent and exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}" if exponent else mantissa


def yaml11_difference(text: str, tag: str) -> tuple[str, str] | None:
    """(what differs, exact rewrite) for a plain scalar YAML 1.1 reads differently, else None."""
    kind = tag.rsplit(":", 1)[-1]
    if kind == "float" and not _YAML11_FLOAT.match(text):
        rewrite = yaml11_float_rewrite(text)
        return f"`{text}` is a float to YAML 1.2 but the string '{text}' to PyYAML (YAML 1.1)", rewrite
    if kind == "str" and text.lower() in _YAML11_BOOL_WORDS:
        word = _YAML11_BOOL_WORDS[text.lower()]
        return (
            f"`{text}` is the string '{text}' to YAML 1.2 but the boolean {word} to YAML 1.1",
            f"{word}` (or quote it: `'{text}'",
        )
    if kind == "int" and _LEADING_ZERO_INT.match(text):
        decimal = str(int(text.replace("_", ""), 10))
        return f"`{text}` is the decimal {decimal} to YAML 1.2 but an octal number to YAML 1.1", decimal
    if kind == "int" and _YAML12_OCTAL.match(text):
        value = str(int(text[2:], 8))
        return f"`{text}` is the number {value} to YAML 1.2 but a string to YAML 1.1", value
    if kind == "str" and _SEXAGESIMAL.match(text):
        return (
            f"`{text}` is a string to YAML 1.2 but a base-60 number to YAML 1.1",
            f"'{text}'",
        )
    return None


@rule(
    code="AHSD003",
    severity="warning",
    title="value YAML 1.1 reads differently",
    why="The user's pipeline reads the file with PyYAML (YAML 1.1): there `5e-3` is a string, "
    "`yes`/`no`/`on`/`off` are booleans, `010` is octal and `1:30` is 90 — while ahsd-config "
    "(YAML 1.2) reads a float, strings, ten and a string.",
    fix="Write the spelling both readers agree on: `5.0e-3`, `true`/`false` or a quoted string, "
    "`10` without the leading zero.",
    bad="priority_net:\n  scheduler_threshold: 5e-3\n",
    good="priority_net:\n  scheduler_threshold: 5.0e-3\n",
)
def check_yaml11_ambiguity(ctx: RuleContext) -> Iterator[Violation]:
    for scalar in ctx.doc.scalars():
        if scalar.style is not None:  # quoted or block scalars are strings to every reader
            continue
        found = yaml11_difference(scalar.text, scalar.tag)
        if found is None:
            continue
        problem, rewrite = found
        yield Violation(
            scalar.path,
            f"{format_key(scalar.path)} = {scalar.text}: {problem}",
            hint=f"write `{rewrite}`",
        )


# Emitted by `ahsd_config.api.validate` after suppressions are applied (they judge the comments).
UNUSED_SUPPRESSION = describe(
    code="AHSD004",
    severity="warning",
    title="suppression comment suppresses nothing",
    why="An `# ahsd: ignore[CODE]` whose finding is gone (the value was fixed, or the code is "
    "wrong) would silently hide the finding if the value ever came back.",
    fix="Delete the comment, or correct the code it names.",
    bad="priority_net:\n  batch_size: 24  # ahsd: ignore[AHSD101] smoke test on CPU\n",
    good="priority_net:\n  batch_size: 12  # ahsd: ignore[AHSD101] smoke test on CPU\n",
    group="hygiene",
)

SUPPRESSION_WITHOUT_REASON = describe(
    code="AHSD005",
    severity="warning",
    title="suppression without a reason",
    why="A suppressed finding is a decision; without the reason next to it the next reader cannot "
    "tell a considered exception from a silenced warning.",
    fix="Write the reason after the bracket: `# ahsd: ignore[AHSD101] CPU smoke test, 2 epochs`.",
    bad="priority_net:\n  batch_size: 12  # ahsd: ignore[AHSD101]\n",
    good="priority_net:\n  batch_size: 12  # ahsd: ignore[AHSD101] smoke test on CPU\n",
    group="hygiene",
)
