"""Layer 3, the migrations engine: PURE data transforms of configs along the revision chain.

Imports only the foundation (`ahsd_config.errors`, `findings`, `values`) and input (the loader's
round-trip YAML, the file writer for `store`). Never the schema, the rules, validate, git or a
subprocess: where an added key lands (`key_order`) and whether a result is valid are the
caller's arguments (`ahsd_config.api.migrations` passes the frozen order of `order.py` and
validates). One module per step:

- `model` - `Revision`, `Change` (the YAML format of `migrations/*.yaml`), `parse_revision`.
- `transforms` - named, invertible whole-config transforms a revision may call.
- `state` - one direction-aware primitive per change, conflicts, plain-data apply.
- `graph` - `RevisionMap`: heads, order, paths, ranges, the state at a revision.
- `walk` - the ONE replay-and-record walk (diff, log, the gate's `recorded` check).
- `apply` + `rt` - apply steps to a config TEXT on ruamel's round-trip tree, keeping comments and
  every untouched byte; `keys` - dotted keys; `build` - the changes between two configs.
- `order` - the frozen key order for revisions without `after:`.
- `store` - revision files in a folder (read, write atomically, journaled replace).

The commands (`migrate`, `diff`, `history`, `log`, `revision`, `squash`, `merge`, `stamp`,
`current`) are the composition layer's: `ahsd_config.api.migrations`. All raise
`AhsdConfigError` subclasses: `MigrationConflict` (exit 1, `.conflicts: [Conflict(revision, key,
expected, found, wanted)]`), `MultipleHeads` (`.heads`), `UnknownRevision`, `CycleDetected`
(`.cycle`), `RevisionGraphError`, `RevisionFormatError`, `NotStamped`, `MigrationInvalid` (exit 2).
"""

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
