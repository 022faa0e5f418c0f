"""Layer 0: the ONE spelling of a config value in every message, table and report.

`show(value)` writes a value as YAML flow style that reads back as the same value: `'AdamW'`
(single-quoted: a string never passes for a number or a bool), `1.0e-05` (`float_text`: a dot and
a signed exponent, so PyYAML's YAML 1.1 reads a float too), `true`, `null`, `[640, 512]`,
`{use_strain: true}`; a key that is not there is `(absent)` (`MISSING`, distinct from null).
validate's findings, `explain`, the migrations' conflicts, diff, log and history, and the CI
gate's messages and tables all print values through here.
"""

from __future__ import annotations

from typing import Any

ABSENT = "(absent)"


class _Missing:
    """The value of a key that is not in the file (distinct from YAML null)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return ABSENT

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def float_text(value: float) -> str:
    """A float spelled so YAML 1.1 (PyYAML, the user's pipeline) and 1.2 both read this float:
    a dot in the mantissa and a signed exponent (`8.0e-05`, `1.0e+20`), `.inf`/`.nan`; the
    shortest repr otherwise, so the value round-trips exactly. AHSD003 never fires on it."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(float(value))
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if e and exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}" if e else mantissa


def show(value: Any, width: int | None = None) -> str:
    """`value` as YAML flow style (see the module docstring); cut to `width` characters with
    `...` when given (a long list in a one-line message)."""
    text = _flow(value)
    if width is not None and len(text) > width:
        return text[: width - 3] + "..."
    return text


def json_value(value: Any) -> Any:
    """`value` as JSON data that any strict JSON reader takes: dicts (keys as their YAML spelling
    when not strings), lists, strings, integers, booleans, null and finite floats; `.nan`/`.inf`
    and whatever YAML builds beyond that (a date, a set, a tagged scalar) as their `show` text.
    `MISSING` is null."""
    if value is MISSING or value is None or isinstance(value, (bool, int)):
        return None if value is MISSING else value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        return value if value - value == 0 else float_text(value)  # inf - inf and nan - nan are nan
    if isinstance(value, dict):
        return {k if isinstance(k, str) else _flow(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return _flow(value)


def _flow(value: Any) -> str:
    if value is MISSING:
        return ABSENT
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"  # YAML single-quoted: '' is the only escape
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)
