"""AHSD4xx: migration stamps and the revision chain.

The chain is looked up next to the file (its repository's `migrations/`, else the shipped chain).
A config stamped at a revision whose history still holds a placeholder rationale (what
`ahsd-config revision` writes) is refused here (AHSD402) as well as by `ahsd-config ci`, so the
"why" is written before the config runs, not after review.
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


@rule(
    code="AHSD402",
    severity="error",
    title="revision rationale not written",
    why="`ahsd-config revision` records each changed value with a placeholder rationale; until the "
    "placeholder is replaced by the reason, the change is as unexplained as a hand edit, and the "
    "next person to touch the value cannot tell why it is what it is.",
    fix="Open the named revision file and replace every `TODO: explain why` with the reason for "
    "that change (what went wrong, what the new value fixes).",
    # The examples run against the project's own chain, which has no placeholders, so the bad
    # example cannot fire there; tests/test_rules_migrations.py builds a chain that has one.
    bad="revision: <chain with a placeholder>\n",
    good="revision: v15\n",
)
def check_stamp_rationales_written(ctx: RuleContext) -> Iterator[Violation]:
    stamp = ctx.data.get("revision") if isinstance(ctx.data, dict) else None
    if stamp is None:
        return  # no chain to read (reading it costs more than validating)
    chain = _chain_near(ctx.doc.path)
    if chain is None or str(stamp) not in chain:
        return
    ancestry = [rid for rid in chain.order if rid in chain.ancestors(str(stamp))]
    pending = chain.placeholder_changes(ancestry)
    if pending:
        shown = "; ".join(f"{rid} change {i} ({key})" for rid, i, key in pending[:3])
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        yield Violation(
            ("revision",),
            f"revision = {stamp}: {len(pending)} change(s) in its history still have the placeholder "
            f"rationale: {shown}{more}",
            hint="write the reason for each change in the revision file (`ahsd-config history` lists them)",
        )


def _known_revisions(path: str) -> list[str]:
    chain = _chain_near(path)
    return list(chain.order) if chain is not None else []


def _chain_near(path: str):
    """The revision map found next to `path`; None when the chain cannot be read."""
    from ahsd_config.errors import AhsdConfigError
    from ahsd_config.migrate import store

    start = Path(path).parent if path and Path(path).exists() else None
    folder = store.find_migrations_dir(start)
    try:
        stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yaml")))
        return _load(str(folder), stamp)
    except (AhsdConfigError, OSError):
        return None  # a broken chain is reported by the chain's own commands, not per config


@functools.lru_cache(maxsize=8)
def _load(folder: str, _files: tuple):
    """The chain of a folder; cached while its files (names, mtimes) stay the same."""
    from ahsd_config.migrate import store

    rmap = store.load_map(folder)
    rmap.order  # load now, inside _chain_near's guard: a malformed revision means "no chain here"
    return rmap
