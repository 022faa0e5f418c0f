"""The revision chain a command works on: the one the caller passes, else the project's."""

from __future__ import annotations

from pathlib import Path

from ahsd_config.migrate import store
from ahsd_config.migrate.graph import RevisionMap


def load_chain(start: str | Path | None = None) -> RevisionMap:
    """The revision graph of the repository around `start` (default: the working directory)."""
    return store.load_map(store.find_migrations_dir(start))


def chain_or_load(rmap: RevisionMap | None) -> RevisionMap:
    return rmap if rmap is not None else load_chain()
