"""Authoring commands (revision, merge, squash), diff formats and rule crossings, the lock."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from ahsd_config.api import migrations as C
from ahsd_config.migrate import store
from ahsd_config.input.files import locked
from ahsd_config.migrate.errors import MultipleHeads
from transient import TRANSIENT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A scratch repository with a copy of the chain, as cwd."""
    (tmp_path / "pyproject.toml").write_text('[tool.ahsd]\nmigrations = "chain"\n')
    shutil.copytree(ROOT / "migrations", tmp_path / "chain", ignore=TRANSIENT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_discovery_reads_tool_ahsd(repo):
    assert store.find_migrations_dir() == repo / "chain"


def test_revision_from_file_records_changes_with_placeholders(repo):
    cfg = repo / "c.yaml"
    head = C.load_chain().head
    cfg.write_text(C.show_text("head").replace("batch_size: 128", "batch_size: 96", 1))
    res = runner.invoke(app, ["revision", "-m", "bigger batch", "--from", str(cfg), "--id", "v261126"])
    assert res.exit_code == 0, res.output
    rmap = C.load_chain()
    rev = rmap.get("v261126")
    assert rmap.head == "v261126" and rev.parents == (head,)
    assert [(c.op, c.key, c.old, c.new) for c in rev.changes] == [("set", "priority_net.batch_size", 128, 96)]
    assert C.placeholder_changes(rmap) == [("v261126", 1, "priority_net.batch_size")]
    assert C.current(cfg, rmap).revision == "v261126"  # the file is stamped at the new head


def test_revision_no_stamp_leaves_the_file_as_it_was(repo):
    cfg = repo / "c.yaml"
    cfg.write_text(C.show_text("head").replace("batch_size: 64", "batch_size: 96", 1))
    before = cfg.read_bytes()
    res = runner.invoke(app, ["revision", "-m", "bigger batch", "--from", str(cfg), "--id", "v261126", "--no-stamp"])
    assert res.exit_code == 0, res.output
    assert cfg.read_bytes() == before


def test_revision_detects_renames(repo):
    cfg = repo / "c.yaml"
    cfg.write_text(C.show_text("head").replace("  gradient_log_threshold:", "  grad_log_threshold:"))
    C.new_revision("rename", cfg, "v261127")
    (change,) = C.load_chain().get("v261127").changes
    assert (change.op, change.key, change.to) == ("rename", "priority_net.gradient_log_threshold",
                                                  "priority_net.grad_log_threshold")


def test_two_heads_are_named_and_merge_joins_them(repo):
    head = C.load_chain().head
    for rid in ("va", "vb"):
        (repo / "chain" / f"2026-12-01_{rid}.yaml").write_text(textwrap.dedent(f"""\
            id: {rid}
            parents: [{head}]
            date: '2026-12-01'
            title: branch {rid}
            changes: []
            """))
    res = runner.invoke(app, ["migrate", str(ROOT / "configs" / "enhanced_training.yaml"), "--dry-run"])
    assert res.exit_code == 2 and "va, vb" in res.output and "ahsd-config merge va vb" in res.output
    with pytest.raises(MultipleHeads):
        C.load_chain().head
    assert runner.invoke(app, ["heads"]).exit_code == 2
    res = runner.invoke(app, ["merge", "va", "vb", "-m", "join", "--id", "vm"])
    assert res.exit_code == 0, res.output
    assert C.load_chain().head == "vm"


def test_squash_keeps_every_change_and_rationale(repo):
    before = C.load_chain()
    n = sum(len(before.get(r).changes) for r in ("v15b", "v15c", "v15d", "v15e"))
    state = before.state("v15e")
    rev = C.squash("v15b", "v15e")
    after = C.load_chain()
    assert rev.id == "v15e" and rev.parents == ("v15a",) and len(rev.changes) == n
    assert after.state("v15e") == state and "v15c" not in after
    assert any(c.rationale.startswith("Fix 1") for c in rev.changes)


def test_diff_between_files_and_at_git_revision(repo):
    cfg = ROOT / "configs" / "enhanced_training.yaml"
    res = runner.invoke(app, ["diff", "v15d", "v15e"])
    assert "AHSD101 error -> clean" in res.output
    res = runner.invoke(app, ["diff", "v15d", "v15e", "--format", "markdown"])
    assert "| `priority_net.batch_size` | changed | 6 | 24 | `v15e` |" in res.output
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    shutil.copy(cfg, repo / "c.yaml")
    subprocess.run(["git", "add", "c.yaml"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "c"], cwd=repo, check=True)
    (repo / "c.yaml").write_text((repo / "c.yaml").read_text().replace("batch_size: 128", "batch_size: 8", 1))
    res = runner.invoke(app, ["diff", "HEAD:c.yaml", "c.yaml", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert '"key": "priority_net.batch_size"' in res.output and '"new": 8' in res.output
    assert runner.invoke(app, ["diff", "v13", "nope"]).exit_code == 2


def test_a_second_migrate_of_the_same_file_waits_for_the_lock(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\n")
    held = threading.Event()

    def hold():
        with locked(path):
            held.set()
            time.sleep(0.6)

    t = threading.Thread(target=hold)
    t.start()
    held.wait()
    start = time.monotonic()
    with locked(path, timeout=5):
        waited = time.monotonic() - start
    t.join()
    assert waited > 0.3


def test_sigkill_during_migrate_leaves_original(tmp_path):
    """A real process killed after writing the temp file and before the rename."""
    src = tmp_path / "c.yaml"
    src.write_text(C.show_text("v15d", store.load_map(ROOT / "migrations")))
    before = src.read_bytes()
    script = textwrap.dedent(f"""
        import os, signal
        from ahsd_config.api import migrations as commands
        real = os.replace
        def die(a, b):
            if str(b).endswith("c.yaml"):
                os.kill(os.getpid(), signal.SIGKILL)
            return real(a, b)
        os.replace = die
        commands.migrate({str(src)!r}, "head", rmap=commands.store.load_map({str(ROOT / 'migrations')!r}))
        """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path)
    assert proc.returncode == -9
    assert src.read_bytes() == before
