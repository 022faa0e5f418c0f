"""AHSD4xx: migration stamps and the revision chain.

The chain is looked up next to the file (its repository's `migrations/`, else the shipped chain).
Placeholder rationales are a property of revision files, not of a config, so they are reported by
`ahsd-config ci` (via `ahsd_config.migrate.placeholder_changes`) rather than by a rule here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Iterator

from ahsd_config.rules.registry import RuleContext, Violation, rule


@rule(
    code="AHSD401",
    severity="error",
    title="unknown revision stamp",
    why="The `revision:` stamp names a revision that is not in the chain (a typo, or a revision "
    "file that was never committed), so `ahsd-config migrate` cannot tell which changes the file "
    "has had and CI cannot check it is at head.",
    fix="Stamp the revision the file really matches (`ahsd-config current FILE` infers it), then "
    "`ahsd-config stamp FILE REV`.",
    bad="revision: v99\n",
    good="revision: v15\n",
)
def check_stamp_is_known(ctx: RuleContext) -> Iterator[Violation]:
    stamp = ctx.data.get("revision") if isinstance(ctx.data, dict) else None
    if stamp is None:
        return
    known = _known_revisions(ctx.doc.path)
    if known and str(stamp) not in known:
        newest = ", ".join(known[-3:])
        yield Violation(
            ("revision",),
            f"revision = {stamp} is not a revision of the chain (newest: {newest})",
            hint="run `ahsd-config current FILE` to infer the revision, then `ahsd-config stamp FILE REV`",
        )


def _known_revisions(path: str) -> list[str]:
    from ahsd_config.errors import AhsdConfigError
    from ahsd_config.migrate import store

    start = Path(path).parent if path and Path(path).exists() else None
    folder = store.find_migrations_dir(start)
    try:
        stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yaml")))
        return list(_ids(str(folder), stamp))
    except (AhsdConfigError, OSError):
        return []  # a broken chain is reported by the chain's own commands, not per config


@functools.lru_cache(maxsize=8)
def _ids(folder: str, _files: tuple) -> tuple[str, ...]:
    """Revision ids of a chain folder; cached while its files (names, mtimes) stay the same."""
    from ahsd_config.migrate import store

    return tuple(store.load_map(folder).order)
