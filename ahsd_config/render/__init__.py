"""Output formats of `ahsd-config validate`: text, json, sarif, github.

Each module has `render(reports) -> str`; the reports are plain data (`FileReport`), so the
formats never touch the loader, the schema or the rules.
"""

from __future__ import annotations

import importlib

from ahsd_config.findings import FileReport

FORMATS = ("text", "json", "sarif", "github")


def render(fmt: str, reports: list[FileReport]) -> str:
    """The whole output for `reports` in format `fmt` (one of FORMATS), ending in a newline."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return importlib.import_module(f"{__name__}.{fmt}_format").render(reports)
