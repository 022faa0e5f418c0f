"""Inline suppression: `# ahsd: ignore[AHSD101] reason` on the offending line. Parsed only here.

Several codes may be listed (`ignore[AHSD101, AHSD102]`); the text after the bracket is the reason,
which is kept with the suppressed finding so a reviewer can see why it was accepted.
"""

from __future__ import annotations

import re

# The comment must start a line or follow whitespace, as YAML comments do (`a#b` is not a comment).
_DIRECTIVE = re.compile(r"(?:^|\s)#\s*ahsd:\s*ignore\[([^\]]*)\]\s*(.*)$", re.IGNORECASE)
_CODE = re.compile(r"^AHSD\d{3}$")


def parse_suppression(line: str) -> dict[str, str]:
    """Codes suppressed on this line, mapped to the stated reason ('' when none was given)."""
    match = _DIRECTIVE.search(line)
    if match is None:
        return {}
    reason = match.group(2).strip()
    codes = (code.strip().upper() for code in match.group(1).split(","))
    return {code: reason for code in codes if _CODE.match(code)}
