"""`ahsd-train doctor --propose-migration` proposes, never corrupts: no draft without a reason, a
draft parented on the head and computed on its values (so it applies cleanly), written outside
`migrations/` until a person accepts it, its title naming the failed checks."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ahsd_config.input.loader import load_file
from ahsd_config.migrate import keys
from ahsd_config.migrate.model import PLACEHOLDER, parse_revision
from ahsd_config.migrate.state import apply_revision_plain, check, primitive
from ahsd_config.migrate.store import load_map
from ahsd_train.run import trainer
from ahsd_train.cli import app
from test_train_support import ROOT, options

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def migrations_listing() -> list[str]:
    return sorted(p.name for p in (ROOT / "migrations").iterdir())


def test_a_healthy_run_gets_no_draft(tmp_path):
    out = tmp_path / "calm"
    # a clip far above the gradient norm and a tiny budget: nothing ran high
    trainer.run(options(out, "priority_net.gradient_clip_norm=40.0", "monitoring.health.grad_norm_typical_max=40.0",
                        max_steps=4))
    before, files = migrations_listing(), sorted(p.name for p in out.iterdir())
    result = runner.invoke(app, ["doctor", str(out), "--propose-migration"])
    checklist = json.loads((out / "report.json").read_text())["checklist"]
    assert result.exit_code == (0 if all(i["passed"] for i in checklist) else 1), result.stderr
    assert "gradients within limits: no escalation needed" in result.stdout
    assert "no draft written: nothing to escalate" in result.stdout
    assert migrations_listing() == before and sorted(p.name for p in out.iterdir()) == files


def test_a_high_gradient_run_gets_a_draft_on_the_head_that_applies_cleanly(tmp_path):
    out = tmp_path / "high"
    trainer.run(options(out, "priority_net.gradient_clip_norm=0.001", "priority_net.learning_rate=2.5e-3",
                        max_steps=6))
    before = migrations_listing()
    result = runner.invoke(app, ["doctor", str(out), "--propose-migration"])
    assert result.exit_code == 1, result.stderr
    [path] = out.glob("*_*-doctor-*.yaml")
    assert migrations_listing() == before  # nothing lands in the chain unaccepted
    rmap = load_map()
    rev = parse_revision(load_file(path).plain(), str(path))
    assert rev.parents == (rmap.head,) and rev.id.startswith(f"{rmap.head}-doctor-")
    assert "gradients ran high (grad_norm_below_clip" in rev.title
    head = rmap.state(rmap.head)
    lr = keys.get(head, "priority_net.learning_rate")
    assert [(c.op, c.key) for c in rev.changes] == [
        ("set", "priority_net.learning_rate"), ("add", "priority_net.normalize_loss_by_components"),
        ("set", "priority_net.uncertainty_weight"), ("set", "priority_net.warmup_epochs")]
    assert (rev.changes[0].old, rev.changes[0].new) == (lr, lr / 2)
    assert all(c.rationale == PLACEHOLDER for c in rev.changes)
    assert [check(head, primitive(c), rev.id) for c in rev.changes] == [None] * 4  # no conflict
    after = apply_revision_plain(head, rev)
    assert keys.get(after, "priority_net.normalize_loss_by_components") is True
    # the run trained at 2.5e-3 (--set); the note says the draft changes the head's value instead
    assert f"priority_net.learning_rate: the run used 2.5e-3, {rmap.head} holds" in result.stdout
    assert "draft revision written:" in result.stdout and "move it into migrations/" in result.stdout


def test_parent_asks_for_another_revision_and_an_unknown_one_is_exit_2(tmp_path):
    out = tmp_path / "high"
    trainer.run(options(out, "priority_net.gradient_clip_norm=0.001", max_steps=3))
    result = runner.invoke(app, ["doctor", str(out), "--propose-migration", "--parent", "v15d",
                                 "--out", str(tmp_path / "d.yaml")])
    assert result.exit_code == 1, result.stderr
    rev = parse_revision(load_file(tmp_path / "d.yaml").plain(), "d.yaml")
    assert rev.parents == ("v15d",)
    assert [(c.key, c.old, c.new) for c in rev.changes if c.op == "set"] == [
        ("priority_net.learning_rate", 8e-5, 4e-5), ("priority_net.uncertainty_weight", 0.35, 0.175),
        ("priority_net.warmup_epochs", 6, 10)]
    bad = runner.invoke(app, ["doctor", str(out), "--propose-migration", "--parent", "nope",
                              "--out", str(tmp_path / "e.yaml")])
    assert bad.exit_code == 2 and "cannot draft on nope" in bad.stderr
