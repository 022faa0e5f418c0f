"""Where a key a revision adds lands when the change gives no `after:` sibling: FROZEN data.

House rule 5: an old revision's output must not depend on today's schema. Revisions written by
`ahsd-config revision` carry `after:` (the sibling the key follows in the edited file); the landed
revisions that do not were applied with the schema's field order as it stood when the chain
landed. `key_order.json` is that order, frozen (section -> field names): it is data, never edited
(tests/test_migrate_golden.py pins its sha256) and never regenerated from the schema, so a schema
that reorders or gains fields changes no landed revision's output. A key it does not know goes
after the last key of its section.

The engine (`apply.apply_text`) takes any such order as its `key_order` argument; this module only
reads the frozen table, it imports no schema.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

FROZEN_ORDER_FILE = Path(__file__).with_name("key_order.json")


@lru_cache(maxsize=1)
def _table() -> dict[str, list[str]]:
    return json.loads(FROZEN_ORDER_FILE.read_text(encoding="utf-8"))


def frozen_key_order(section: str) -> list[str]:
    """Field names of a dotted section in the frozen order ("" = the top level; [] if unknown)."""
    return list(_table().get(section, ()))
