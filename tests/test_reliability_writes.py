"""Writers that replace files never lose or half-write them (issue 9, items 1 and 3).

Revision sets (squash, merge, revision) go through `store.replace_revisions` -> `commit_files`:
fault injection fails (ENOSPC) or kills (SIGKILL) the writer at every file-system step and the
chain must read back as the old set or the new set, byte for byte, with no temp file left.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahsd_config.atomic import JOURNAL, commit_files, file_lock, recover
from ahsd_config.cli import app
from ahsd_config.migrate import commands as C
from ahsd_config.migrate import store
from ahsd_config.migrate.errors import RevisionFormatError

from faults import count_steps, die_at, fail_at, snapshot

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _rev(rid: str, parent: str | None, day: int, old: int, new: int) -> str:
    parents = f"[{parent}]" if parent else "[]"
    return textwrap.dedent(f"""\
        id: {rid}
        parents: {parents}
        date: '2025-11-{day:02d}'
        title: step {rid}
        changes:
        - op: set
          key: priority_net.batch_size
          old: {old}
          new: {new}
          rationale: because {rid}
        """)


@pytest.fixture
def chain(tmp_path, monkeypatch) -> Path:
    """A four-revision linear chain a -> b -> c -> d in tmp/chain, cwd = tmp."""
    folder = tmp_path / "chain"
    folder.mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.ahsd]\nmigrations = "chain"\n')
    for i, (rid, parent) in enumerate([("a", None), ("b", "a"), ("c", "b"), ("d", "c")]):
        (folder / f"2025-11-1{i}_{rid}.yaml").write_text(_rev(rid, parent, 10 + i, 8 + i, 9 + i))
    monkeypatch.chdir(tmp_path)
    return folder


def _squash(folder: Path):
    return lambda: C.squash("b", "d", "b to d", rmap=store.load_map(folder), folder=folder)


def test_squash_with_a_blank_title_changes_nothing(chain):
    before = snapshot(chain)
    res = runner.invoke(app, ["squash", "b", "d", "-m", " "])
    assert res.exit_code == 2 and "`title` must be a non-empty string" in res.output
    assert snapshot(chain) == before and C.load_chain().head == "d"


def _restore(folder: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(folder)
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def _old_and_new(chain: Path) -> tuple[dict, dict, int]:
    """The chain's files before and after a clean squash, and how many steps that squash takes."""
    scratch = chain.parent / "scratch"
    shutil.copytree(chain, scratch)
    steps = count_steps(scratch, _squash(scratch))
    return snapshot(chain), snapshot(scratch), steps


def test_squash_failing_at_any_step_leaves_the_chain_byte_identical(chain):
    before, new, steps = _old_and_new(chain)
    assert steps >= 8  # stage, fsync, journal, renames, unlinks, journal removal, lock
    failed = 0
    for n in range(1, steps + 1):
        exc = fail_at(chain, n, _squash(chain))
        after = snapshot(chain, ignore=(".ahsd.lock",))
        if exc is None:  # a best-effort step (a folder fsync, the lock's removal): it went through
            assert after == new, f"step {n}"
        else:
            assert isinstance(exc, OSError), (n, exc)
            assert after == before, f"step {n}: the chain changed after a failed squash"
            failed += 1
        _restore(chain, before)
    assert failed >= 6


def test_squash_killed_at_any_step_reads_back_old_or_new(chain):
    before, new, steps = _old_and_new(chain)
    outcomes = set()
    for n in range(1, steps + 1):
        status = die_at(chain, n, _squash(chain))
        assert status & 0x7F == signal.SIGKILL, f"step {n}: the writer was not killed"
        store.load_map(chain).order  # the next command completes or discards what was left
        after = snapshot(chain, ignore=(".ahsd.lock",))
        assert after in (before, new), f"step {n}: {sorted(after)}"
        outcomes.add("old" if after == before else "new")
        _restore(chain, before)
    assert outcomes == {"old", "new"}  # the kill landed both before and after the commit point


def test_squash_date_cannot_leave_the_folder(chain):
    bad = (chain / "2025-11-13_d.yaml").read_text().replace("'2025-11-13'", "'../../escape'")
    (chain / "2025-11-13_d.yaml").write_text(bad)
    res = runner.invoke(app, ["squash", "b", "d"])
    assert res.exit_code == 2 and "`date` must be an ISO date" in res.output
    assert not (chain.parent.parent / "escape_d.yaml").exists()


def test_merge_and_revision_write_through_the_same_writer(chain, monkeypatch):
    calls = []
    real = store.replace_revisions
    monkeypatch.setattr(store, "replace_revisions", lambda *a, **k: calls.append(a) or real(*a, **k))
    (chain / "2025-11-20_e.yaml").write_text(_rev("e", "c", 20, 11, 12))
    C.merge("d", "e", "join", rmap=store.load_map(chain), folder=chain)
    cfg = chain.parent / "c.yaml"
    cfg.write_text(C.show_text("head", store.load_map(chain)).replace("batch_size: 12", "batch_size: 16"))
    C.new_revision("bigger", cfg, "f", rmap=store.load_map(chain), folder=chain)
    assert len(calls) == 2 and store.load_map(chain).head == "f"


def test_commit_files_refuses_names_outside_the_folder(tmp_path):
    with pytest.raises(ValueError):
        commit_files(tmp_path, {"../x.yaml": b"x"})
    with pytest.raises(ValueError):
        commit_files(tmp_path, {}, ["sub/x.yaml"])


def test_recover_completes_a_committed_journal(tmp_path):
    (tmp_path / "old.yaml").write_bytes(b"old")
    (tmp_path / ".new.yaml.999999.x.tmp").write_bytes(b"new")
    (tmp_path / JOURNAL).write_text('{"writes": {"new.yaml": ".new.yaml.999999.x.tmp"}, "removes": ["old.yaml"]}')
    assert recover(tmp_path)
    assert snapshot(tmp_path) == {"new.yaml": b"new"}


# ------------------------------------------------------------------------------------ locks
_HOLD = textwrap.dedent("""
    import sys, time
    from ahsd_config.atomic import file_lock, LockTimeout
    path, hold, timeout, log = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    try:
        with file_lock(path, timeout=timeout):
            open(log, "a").write(f"in {time.monotonic()}\\n")
            time.sleep(hold)
            open(log, "a").write(f"out {time.monotonic()}\\n")
    except LockTimeout:
        open(log, "a").write("timeout\\n")
    """)


def test_a_waiter_that_times_out_never_breaks_the_holders_lock(tmp_path):
    """Holder (1.5 s), a waiter that gives up after 0.3 s, then a third process: the third must
    wait for the holder; with the old lock the waiter deleted the lock file and the third got in."""
    log, target = tmp_path / "log", tmp_path / "c.yaml"
    run = lambda hold, timeout: subprocess.Popen(  # noqa: E731
        [sys.executable, "-c", _HOLD, str(target), str(hold), str(timeout), str(log)])
    holder = run(1.5, 5)
    for _ in range(200):
        if log.exists():
            break
        time.sleep(0.02)
    waiter = run(0, 0.3)
    waiter.wait()
    third = run(0, 10)
    holder.wait(), third.wait()
    events = log.read_text().split("\n")
    assert "timeout" in events
    spans = [float(e.split()[1]) for e in events if e.startswith(("in", "out"))]
    assert spans == sorted(spans) and len(spans) == 4  # in, out, in, out: never two inside at once
    assert not (tmp_path / "c.yaml.lock").exists()


def test_a_lock_that_is_a_directory_or_a_symlink_is_one_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(C.show_text("v15", store.load_map(ROOT / "migrations")))
    (tmp_path / "c.yaml.lock").mkdir()
    res = runner.invoke(app, ["stamp", str(cfg), "v15"])
    assert res.exit_code == 2 and "c.yaml.lock" in res.output and "Traceback" not in res.output
    (tmp_path / "c.yaml.lock").rmdir()
    (tmp_path / "c.yaml.lock").symlink_to(tmp_path / "elsewhere")
    res = runner.invoke(app, ["stamp", str(cfg), "v15"])
    assert res.exit_code == 2 and "c.yaml.lock" in res.output
    assert not (tmp_path / "elsewhere").exists()
