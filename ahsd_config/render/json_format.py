"""The JSON contract of PRODUCT.md: `{"files": [{"path", "findings": [...], "suppressed": [...]}]}`.

An unreadable file also carries `"error": {"message", "line", "column"}` (and exit code 2).
"""

from __future__ import annotations

import json

from ahsd_config.findings import FileReport


def render(reports: list[FileReport]) -> str:
    return json.dumps({"files": [r.to_json() for r in reports]}, indent=2, ensure_ascii=False) + "\n"
