"""Versioned, reversible config migrations (the `migrations/` chain) - the engine.

The commands listed below (`load_chain` ... `squash`) live in the composition layer,
`ahsd_config.api.migrations`; this package holds the engine they drive. All raise
`AhsdConfigError` subclasses:

- `load_chain(start=None) -> RevisionMap` - the graph (`.heads`, `.head`, `.order`, `.get(id)`,
  `.path(a, b) -> [Step]`, `.state(id) -> dict`, `.range("v13:v15")`, `.implicit`).
- `RevisionMap(lambda: [Revision, ...])` - the same from an in-memory list (pure, for tests).
- `plan(path, to="head", on_conflict=None) -> Plan` (`.source`, `.target`, `.steps`,
  `.result.text`, `.diff`); `migrate(path, to, on_conflict=None, dry_run=False) -> MigrateResult`.
- `apply_revision(text, rev_id, down=False) -> Applied` (`.text`, `.data`, `.conflicts`) and
  `roundtrip_ok(text, rev_id) -> bool` - apply/revert one revision on a config text.
- `current(path) -> Inference` (`.revision`, `.exact`, `.differing`, `.stamped`);
  `infer(data) -> Inference`; `stamp(path, rev) -> str`.
- `diff(a, b, history=False) -> DiffResult` (`.changes: [KeyDiff]`, `.to_json()` = PRODUCT.md);
  `log_key(key) -> [KeyStep]`; `history(rng=None) -> [Revision]`; `show(rev) -> dict`.
- `placeholder_changes(rmap=None, revisions=None) -> [(rev_id, index, key)]`;
  `is_placeholder(text) -> bool`; `PLACEHOLDER`.
- `new_revision(title, file)`, `merge(r1, r2, title)`, `squash(a, b)` - write revision files.
- `atomic_write(path, text)` - the one safe file replacement (temp, fsync, rename, fsync dir).
- Errors: `MigrationConflict` (exit 1, `.conflicts: [Conflict(revision, key, expected, found,
  wanted)]`), `MultipleHeads` (`.heads`), `UnknownRevision`, `CycleDetected` (`.cycle`),
  `RevisionGraphError`, `RevisionFormatError`, `NotStamped`, `MigrationInvalid` (exit 2).
"""

from .atomic import atomic_write
from .errors import (
    Conflict,
    CycleDetected,
    MigrationConflict,
    MigrationInvalid,
    MultipleHeads,
    NotStamped,
    RevisionFormatError,
    RevisionGraphError,
    UnknownRevision,
)
from .graph import RevisionMap, Step
from .model import PLACEHOLDER, Change, Revision, is_placeholder, parse_revision

__all__ = [name for name in dir() if not name.startswith("_")]
