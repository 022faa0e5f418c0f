"""The gate's settings: `[tool.ahsd] config_globs` and `migrations`, read from the BASE ref.

The gate judges with the settings of the base ref's pyproject.toml, never the pull request's: a
pull request cannot narrow `config_globs` or move `migrations` to switch its own gate off (a change
is the `settings` check's finding, AHSD610).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ahsd_config.errors import InputError
from ahsd_config.gate.git import Git
from ahsd_config.gate.result import SETTINGS_CHANGED, GateResult
from ahsd_config.input.project import DEFAULT_CONFIG_GLOBS, DEFAULT_MIGRATIONS, parse_settings


@dataclass(frozen=True)
class GateSettings:
    config_globs: tuple[str, ...] = DEFAULT_CONFIG_GLOBS
    migrations: str = DEFAULT_MIGRATIONS

    def is_config(self, path: str) -> bool:
        return any(glob_regex(g).fullmatch(path) for g in self.config_globs)

    def is_revision(self, path: str) -> bool:
        return path.startswith(self.migrations.rstrip("/") + "/") and path.endswith((".yaml", ".yml"))


def read_settings(git: Git, ref: str) -> GateSettings:
    """`[tool.ahsd] config_globs` and `migrations` from pyproject.toml at `ref` (defaults otherwise)."""
    text = git.show(ref, "pyproject.toml")
    return settings_from_toml(text) if text else GateSettings()


def settings_from_toml(text: str) -> GateSettings:
    """The gate's view of `[tool.ahsd]`, read by the one settings parser (`ahsd_config.input.project`)."""
    parsed = parse_settings(text, "pyproject.toml")
    if parsed is None:  # no [tool.ahsd] table: the defaults match the project's own layout
        return GateSettings()
    return GateSettings(config_globs=parsed.config_globs, migrations=parsed.migrations)


def report_settings_change(result: GateResult, base: GateSettings, git: Git, head: str) -> bool:
    """AHSD610 when the pull request's pyproject.toml sets other gate settings than the base's."""
    try:
        at_head = read_settings(git, head)
    except InputError as exc:
        why = f"its [tool.ahsd] cannot be read at head: {exc.message}"
    else:
        if at_head == base:
            return False
        why = "it changes [tool.ahsd] " + ", ".join(
            f"{name} {getattr(base, name)!r} -> {getattr(at_head, name)!r}"
            for name in ("config_globs", "migrations") if getattr(base, name) != getattr(at_head, name))
    result.add("settings", "pyproject.toml", SETTINGS_CHANGED,
               f"pyproject.toml: {why}; the gate keeps judging with the base's settings",
               key="tool.ahsd", hint="change the gate's settings in a pull request of their own, reviewed and "
                                     "merged on purpose (the gate cannot approve a change to its own rules)")
    return True


@lru_cache(maxsize=64)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """`configs/**/*.yaml` -> a regex: `**/` spans zero or more folders, `*` and `?` stay in one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:[^/]+/)*", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)
