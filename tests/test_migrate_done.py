"""Issue 3's done-when checks, the corpus chain, conflicts, atomic writes, discovery."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from ahsd_config.api import migrations as C
from ahsd_config.migrate import store
from ahsd_config.migrate.errors import MigrationConflict, NotStamped

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "posteriflow" / "enhanced_training"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS} (../shared)")
runner = CliRunner()
KEYS = ["batch_size", "gradient_clip_norm", "calib_max_weight", "calib_range_weight",
        "min_variance_penalty_weight", "uncertainty_weight"]


@pytest.fixture(scope="module")
def rmap():
    return store.load_map(ROOT / "migrations")


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(ROOT)


def corpus_copy(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copyfile(CORPUS / name, dst)  # the corpus is read-only (0444); migrate refuses such files
    return dst


HEAD = "v261130"  # the chain's head: the newest revision (a new revision moves it here, once)


def test_chain_has_one_head_and_real_rationales(rmap):
    assert rmap.heads == [HEAD]
    assert C.placeholder_changes(rmap) == []
    assert {"v13", "v15"} <= set(rmap.by_id)


def test_diff_v13_v15_text_shows_every_step():
    res = runner.invoke(app, ["diff", "v13", "v15", "--history"])
    assert res.exit_code == 0, res.output
    for key in KEYS:
        assert f"priority_net.{key}" in res.output
    for rid in ("v15b", "v15c", "v15d", "v15e", "v15"):
        assert f"    {rid} (" in res.output
    assert "Fix 1: BatchNorm with n=6" in res.output
    plain = runner.invoke(app, ["diff", "v13", "v15"])
    assert "priority_net.uncertainty_weight" in plain.output  # named as "moved and came back"


def test_diff_v13_v15_json_history_contract():
    res = runner.invoke(app, ["diff", "v13", "v15", "--format", "json", "--history"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["from"] == "v13" and data["to"] == "v15"
    by_key = {c["key"]: c for c in data["changes"]}
    for c in data["changes"]:
        assert set(c) == {"key", "kind", "old", "new", "steps", "rules"}  # rules: additive (issue 13)
        assert c["kind"] in ("added", "removed", "changed")
        for s in c["steps"]:
            assert set(s) == {"revision", "old", "new", "rationale"} and s["rationale"]
    steps = lambda k: [(s["revision"], s["old"], s["new"]) for s in by_key[f"priority_net.{k}"]["steps"]]
    assert steps("batch_size") == [("v15d", 48, 6), ("v15e", 6, 24)]
    assert steps("gradient_clip_norm") == [("v15e", 2.0, 5.0)]
    assert steps("calib_max_weight") == [("v15c", 0.75, 2.5), ("v15e", 2.5, 1.0), ("v15", 1.0, 0.5)]
    assert steps("calib_range_weight") == [("v15c", 0.45, 2.0), ("v15e", 2.0, 0.75), ("v15", 0.75, 0.4)]
    assert steps("min_variance_penalty_weight") == [("v15c", None, 10.0), ("v15e", 10.0, 2.0)]
    assert steps("uncertainty_weight") == [("v15b", 0.1, 0.35), ("v15e", 0.35, 0.1)]
    assert by_key["priority_net.min_variance_penalty_weight"]["kind"] == "added"
    assert by_key["priority_net.min_variance_penalty_weight"]["new"] == 2.0


def test_diff_a_a_is_empty(rmap):
    assert C.diff("v13", "v13", history=True, rmap=rmap).changes == []


@needs_corpus
def test_v13_and_v15_are_the_corpus_states(rmap):
    assert C.current(CORPUS / "2025-11-13T2009_6dbce3f.yaml", rmap).revision == "v13"
    v15 = C.current(CORPUS / "2025-11-15T2110_876dba0.yaml", rmap)
    assert (v15.revision, v15.exact) == ("v15", True)
    assert rmap.state("v15")["priority_net"]["min_variance_penalty_weight"] == 2.0


@needs_corpus
def test_stamped_nov15_goes_to_head_and_back_byte_identical(tmp_path):
    path = corpus_copy(tmp_path, "2025-11-15T2110_876dba0.yaml")
    assert runner.invoke(app, ["stamp", str(path), "v15"]).exit_code == 0
    stamped = path.read_bytes()
    res = runner.invoke(app, ["migrate", str(path), "--to", "head"])
    assert res.exit_code == 0, res.output
    assert f"revision: {HEAD}".encode() in path.read_bytes() and b"stage:" not in path.read_bytes()
    res = runner.invoke(app, ["migrate", str(path), "--to", "v15"])
    assert res.exit_code == 0, res.output
    assert path.read_bytes() == stamped


@needs_corpus
def test_v13_with_hand_edited_batch_size_conflicts_and_is_untouched(tmp_path):
    path = corpus_copy(tmp_path, "2025-11-13T2009_6dbce3f.yaml")
    path.write_text(path.read_text().replace("batch_size: 48", "batch_size: 40"))
    runner.invoke(app, ["stamp", str(path), "v13"])
    before = path.read_bytes()
    res = runner.invoke(app, ["migrate", str(path), "--to", "v15"])
    assert res.exit_code == 1
    assert "priority_net.batch_size" in res.output and "expects 48" in res.output and "has 40" in res.output
    assert path.read_bytes() == before
    assert not (tmp_path / (path.name + ".bak")).exists()
    res = runner.invoke(app, ["migrate", str(path), "--to", "v15", "--on-conflict", "keep"])
    assert res.exit_code == 0 and "batch_size: 40" in path.read_text()


@needs_corpus
@pytest.mark.corpus
def test_every_corpus_file_from_nov_11_reaches_head_and_validates(tmp_path, rmap):
    from ahsd_config.api.validate import validate_path

    names = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name >= "2025-11-11")
    assert len(names) == 22
    for name in names:
        path = corpus_copy(tmp_path, name)
        result = C.migrate(path, "head", rmap=rmap)
        assert result.plan.inferred and result.plan.target == HEAD, name
        errors = [f.code for f in validate_path(path).findings if f.severity == "error"]
        assert errors == [], (name, errors)
        assert C.state_differences(C.load_file(path).plain(), rmap.state("head"), rmap.implicit) == []


@needs_corpus
def test_migrate_killed_before_rename_leaves_original(tmp_path, monkeypatch, rmap):
    path = corpus_copy(tmp_path, "2025-11-13T2009_6dbce3f.yaml")
    before = path.read_bytes()

    def boom(src, dst):
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        C.migrate(path, "head", rmap=rmap)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_unstamped_inexact_file_asks_for_stamp(tmp_path, rmap):
    text = C.show_text("v13", rmap).replace("revision: v13\n", "").replace("batch_size: 48", "batch_size: 40")
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(NotStamped) as info:
        C.migrate(path, "head", rmap=rmap)
    assert info.value.exit_code == 2 and "priority_net.batch_size" in str(info.value)
    res = runner.invoke(app, ["current", str(path)])
    assert "nearest: 1 keys differ: priority_net.batch_size" in res.output


def test_dry_run_prints_diff_and_writes_nothing(tmp_path, rmap):
    path = tmp_path / "c.yaml"
    path.write_text(C.show_text("v15d", rmap))
    before = path.read_bytes()
    res = runner.invoke(app, ["migrate", str(path), "--to", "v15e", "--dry-run"])
    assert res.exit_code == 0
    assert "-  batch_size: 6" in res.output and "+  batch_size: 24" in res.output
    assert path.read_bytes() == before


def test_log_key_is_a_blame():
    res = runner.invoke(app, ["log", "priority_net.batch_size"])
    assert res.exit_code == 0
    lines = [l.split()[0] for l in res.output.splitlines() if not l.startswith(" ")]
    assert lines[:7] == ["v11", "v12", "v15d", "v15e", "v15", "v25", "v260707"][:7] or "v15e" in lines


def test_history_range_and_heads():
    res = runner.invoke(app, ["history", "-r", "v13:v15", "--brief"])
    assert [l.split()[0] for l in res.output.splitlines()] == ["v15a", "v15b", "v15c", "v15d", "v15e", "v15"]
    assert runner.invoke(app, ["heads"]).output.startswith(HEAD)


def test_shipped_chain_is_the_fallback_outside_a_repo(tmp_path):
    outside = tmp_path / "nowhere"
    outside.mkdir()
    assert store.find_migrations_dir(outside) == store.SHIPPED
    assert store.load_map(store.SHIPPED).head == HEAD


def test_project_config_sits_at_head(rmap):
    inf = C.current(ROOT / "configs" / "enhanced_training.yaml", rmap)
    assert (inf.revision, inf.stamped, inf.exact) == (HEAD, True, True)
