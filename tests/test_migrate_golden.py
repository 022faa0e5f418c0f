"""Golden files: where comments land on edit, insert, delete and rename.

Regenerate after a deliberate change with `AHSD_REGEN_GOLDEN=1 pytest tests/test_migrate_golden.py`
and review the diff of tests/golden/migrations/ by eye.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ahsd_config.migrate.apply import apply_text
from ahsd_config.migrate.graph import Step
from ahsd_config.migrate.model import Change, Revision
from ahsd_config.migrate.order import FROZEN_ORDER_FILE, frozen_key_order as key_order

GOLDEN = Path(__file__).parent / "golden" / "migrations"
PN = "priority_net."

CASES = {
    "edit": [Change("set", "fix", key=PN + "learning_rate", old=3.0e-5, new=8.0e-5),
             Change("set", "fix 1", key=PN + "batch_size", old=6, new=24),
             Change("set", "fix 5", key=PN + "uncertainty_weight", old=0.35, new=0.1),
             Change("set", "fix 4", key=PN + "calib_max_weight", old=2.5, new=1.0),
             Change("set", "switch", key=PN + "optimizer", old="AdamW", new="Adam")],
    "insert": [Change("add", "The 10x min-variance penalty was hard-coded in the model; now a key.",
                      key=PN + "min_variance_penalty_weight", value=2.0),
               Change("add", "Per-replica batch for the BatchNorm rule.", key=PN + "world_size", value=1)],
    "delete": [Change("remove", "Nobody reads it.", key=PN + "legacy_scale", old=4, after="calib_max_weight"),
               Change("remove", "First of its group.", key=PN + "ranking_weight", old=0.70, after="batch_size")],
    "rename": [Change("rename", "Clearer name.", key=PN + "legacy_scale", to=PN + "loss_scale_factor"),
               Change("rename", "Moved to data.", key=PN + "gradient_clip_norm", to="data.clip",
                      after="sample_rate", was_after="loss_scale_factor")],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_comment_placement_matches_golden(case):
    text = (GOLDEN / "input.yaml").read_text(encoding="utf-8")
    rev = Revision(case, (), "2025-11-15", case, tuple(CASES[case]))
    out = apply_text(text, [Step(rev, False)], target=None, stamp=False, key_order=key_order).text
    golden = GOLDEN / f"{case}.yaml"
    if os.environ.get("AHSD_REGEN_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")
    back = apply_text(out, [Step(rev, True)], target=None, stamp=False, key_order=key_order).text
    if case in ("edit", "insert", "rename"):
        assert back == text  # reversible byte for byte


# The landed revisions that add a key without `after:` were applied with the schema's field order
# as it stood when they landed; migrate/key_order.json freezes it (house rule 5: an old revision's
# output must not depend on today's schema). Never edit it: a changed byte moves keys in the
# output of old revisions.
FROZEN_ORDER_SHA256 = "ee59feb603e0c7913d9a0c39fd9098aef67e7e0645f410aa2ce411f8c5358c0a"


def test_the_key_order_of_old_revisions_is_frozen_data():
    import hashlib

    assert hashlib.sha256(FROZEN_ORDER_FILE.read_bytes()).hexdigest() == FROZEN_ORDER_SHA256


def test_an_added_key_lands_by_the_order_passed_in_never_by_todays_schema():
    """The engine takes the order as an argument: the same revision lands its key where each order
    says, and with no order (or a key the order does not know) after the last key of its section."""
    text = (GOLDEN / "input.yaml").read_text(encoding="utf-8")
    rev = Revision("t", (), "2025-11-15", "t", (Change("add", "why", key=PN + "world_size", value=1),))

    def section_of(out: str) -> list[str]:
        from ahsd_config.input.loader import load_text

        return list(load_text(out, "out.yaml").plain()["priority_net"])

    first = apply_text(text, [Step(rev, False)], target=None, stamp=False,
                       key_order=lambda s: ["learning_rate", "world_size", "batch_size"] if s == "priority_net" else []).text
    none = apply_text(text, [Step(rev, False)], target=None, stamp=False, key_order=None).text
    unknown = apply_text(text, [Step(rev, False)], target=None, stamp=False,
                         key_order=lambda s: ["some_other_key"]).text
    assert section_of(first)[:3] == ["learning_rate", "world_size", "batch_size"]
    assert section_of(none)[-1] == "world_size"
    assert unknown == none
