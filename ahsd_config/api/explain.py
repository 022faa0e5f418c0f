"""`ahsd-config explain AHSD101|priority_net.batch_size`: a rule's documentation or a key's.

Pure text in, text out; an unknown subject raises `UsageError` with the closest known names.
"""

from __future__ import annotations

import difflib
import textwrap

from ahsd_config.errors import UsageError

_WIDTH = 100


def explain_text(subject: str) -> str:
    """The explanation of a rule code or a dotted key, ending in a newline."""
    subject = subject.strip()
    if not subject:
        raise UsageError("explain takes a rule code (AHSD101) or a dotted key (priority_net.batch_size)")
    if subject.upper().startswith("AHSD"):
        return explain_rule(subject.upper())
    return explain_key(subject)


def _para(label: str, text: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=f"{label}: ", subsequent_indent="  ") + "\n"


def _example(label: str, snippet: str) -> str:
    body = "".join(f"    {line}\n" for line in snippet.rstrip("\n").splitlines())
    return f"{label}:\n{body}"


def explain_rule(code: str) -> str:
    from ahsd_config.rules import all_rules, get_rule
    from ahsd_config.rules.gate_codes import GATE_CODES

    if code in GATE_CODES:
        return explain_gate_code(code)
    try:
        rule = get_rule(code)
    except KeyError:
        known = [r.code for r in all_rules()] + list(GATE_CODES)
        close = difflib.get_close_matches(code, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"no rule {code}{hint} (`ahsd-config explain` takes AHSDnnn or a dotted key)") from None
    return (
        f"{rule.code} ({rule.severity}): {rule.title}\n"
        + _para("why", rule.why)
        + _para("fix", rule.fix)
        + _example("bad", rule.bad)
        + _example("good", rule.good)
        + f"suppress one line with: # ahsd: ignore[{rule.code}] <reason>\n"
    )


def explain_gate_code(code: str) -> str:
    from ahsd_config.rules.gate_codes import get_gate_code

    gc = get_gate_code(code)
    return (
        f"{gc.code} (gate, `ahsd-config ci` check '{gc.check}'): {gc.title}\n"
        + _para("why", gc.why)
        + _para("fix", gc.fix)
    )


def explain_key(dotted: str) -> str:
    from ahsd_config.schema import REQUIRED, all_dotted_keys, field_info

    try:
        doc = field_info(dotted)
    except KeyError:
        close = difflib.get_close_matches(dotted, list(all_dotted_keys()), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
        raise UsageError(f"unknown key `{dotted}`{hint}") from None
    bounds = ", ".join(f"{_BOUND_WORDS.get(k, k)} {v}" for k, v in doc.bounds.items()) or "none"
    if doc.default is REQUIRED:
        default = "none (required)"
    elif isinstance(doc.default, dict):
        default = "each key's own default (a section; `ahsd-config explain KEY.SUBKEY`)"
    else:
        default = _show(doc.default)
    text = f"{dotted}\n" + _para("description", doc.description or "(none)")
    text += f"type: {doc.type}\nbounds: {bounds}\ndefault: {default}\n"
    if doc.unused:
        text += _para("not used by ahsd-train", doc.unused)
    children = [k[len(dotted) + 1:] for k in all_dotted_keys()
                if k.startswith(dotted + ".") and "." not in k[len(dotted) + 1:]]
    if children:
        text += _para("keys", ", ".join(children))
    return text


_BOUND_WORDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "min_length": "length >=",
                "max_length": "length <="}


def _show(value: object) -> str:
    from ahsd_config.values import show

    return show(value, width=60)
