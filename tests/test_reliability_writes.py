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

from ahsd_config.input.files import JOURNAL, commit_files, file_lock, recover
from ahsd_config.cli.app import app
from ahsd_config.api import migrations as C
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


def _revision_from(tmp: Path):
    """`revision --from c.yaml` with the stamp, in tmp/chain (chain head d, c.yaml one value past it)."""
    return lambda: C.new_revision("bigger", tmp / "c.yaml", "e", rmap=store.load_map(tmp / "chain"),
                                  folder=tmp / "chain", stamp=True)


def _project_state(tmp: Path) -> dict[str, bytes]:
    return snapshot(tmp, ignore=(".ahsd.lock", "c.yaml.lock"))


def test_revision_from_file_failing_or_killed_at_any_step_writes_both_or_neither(chain, monkeypatch):
    """The revision file and FILE's stamp are one file set: a kill between the two used to leave
    the new revision with FILE still stamped at the old head."""
    monkeypatch.setattr(C, "_today", lambda: "2026-11-30T08:00:00+00:00")  # a rerun writes the same bytes
    tmp = chain.parent
    cfg = tmp / "c.yaml"
    cfg.write_text("revision: d\npriority_net:\n  batch_size: 20  # tuned\n")
    before = _project_state(tmp)
    scratch = tmp.parent / "scratch"
    shutil.copytree(tmp, scratch)
    steps = count_steps(scratch, _revision_from(scratch))
    new = _project_state(scratch)
    assert new["c.yaml"] == b"revision: e\npriority_net:\n  batch_size: 20  # tuned\n"
    assert sorted(set(new) - set(before)) == ["chain/2026-11-30_e.yaml"]
    assert steps >= 8
    outcomes = set()
    for n in range(1, steps + 1):
        exc = fail_at(tmp, n, _revision_from(tmp))
        after = _project_state(tmp)
        assert after == (new if exc is None else before), f"step {n}: failed ({exc}) but half the set changed"
        _restore_project(tmp, before)
        status = die_at(tmp, n, _revision_from(tmp))
        assert status & 0x7F == signal.SIGKILL, f"step {n}: the writer was not killed"
        store.load_map(tmp / "chain").order  # the next command completes or discards what was left
        after = _project_state(tmp)
        stale = sorted(k for k in after if k.endswith(".tmp"))  # a temp staged next to FILE before the
        assert all(k.startswith(".c.yaml.") for k in stale), f"step {n}: {stale}"  # commit point: the
        after = {k: v for k, v in after.items() if k not in stale}  # next write of FILE sweeps it
        assert after in (before, new), f"step {n}: {sorted(after)}"
        outcomes.add("old" if after == before else "new")
        if after == before:  # the user runs it again: it goes through and sweeps the dead stamp's temp
            _revision_from(tmp)()
            assert _project_state(tmp) == new, f"step {n}: the rerun left {sorted(set(_project_state(tmp)) - set(new))}"
        _restore_project(tmp, before)
    assert outcomes == {"old", "new"}  # the kill landed both before and after the commit point


def _restore_project(tmp: Path, files: dict[str, bytes]) -> None:
    for p in sorted(tmp.rglob("*"), reverse=True):
        if p.is_file() and p.name not in (".ahsd.lock", "c.yaml.lock"):
            p.unlink()
    for name, data in files.items():
        (tmp / name).write_bytes(data)


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
    from ahsd_config.input.files import file_lock, LockTimeout
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


# --------------------------------------------------------------------- malformed revisions
def _change(body: str) -> str:
    return ("id: e\nparents: [d]\ndate: '2025-11-20'\ntitle: bad\nchanges:\n"
            + textwrap.indent(textwrap.dedent(body), "") + "  rationale: because\n")


MALFORMED = {
    "unknown transform": ("- op: transform\n  name: explode\n  args: {key: priority_net.batch_size}\n",
                          "unknown transform 'explode'; registered: join_list, scale"),
    "scale by zero": ("- op: transform\n  name: scale\n  args: {key: priority_net.batch_size, factor: 0}\n",
                      "scale factor must be a finite non-zero number"),
    "scale without args": ("- op: transform\n  name: scale\n", "scale takes args {key: dotted key, factor: number}"),
    "set through a scalar": ("- op: set\n  key: priority_net.batch_size.deeper\n  old: 1\n  new: 2\n",
                             "cannot write priority_net.batch_size.deeper: priority_net.batch_size holds 12"),
    "add through a scalar": ("- op: add\n  key: priority_net.batch_size.deeper\n  value: 2\n",
                             "priority_net.batch_size holds 12, not a section"),
    "join_list on a number": ("- op: transform\n  name: join_list\n  args: {key: priority_net.batch_size}\n",
                              "priority_net.batch_size is 12, not a list"),
    # every field that names a key is a string when the revision loads (an int `after` was a traceback)
    "after an int": ("- op: add\n  key: priority_net.zz\n  value: 6\n  after: 5\n", "`after` must be a non-empty string"),
    "after a list": ("- op: add\n  key: priority_net.zz\n  value: 6\n  after: [a]\n", "`after` must be a non-empty string"),
    "was_after a map": ("- op: rename\n  key: priority_net.batch_size\n  to: priority_net.bs\n  was_after: {a: 1}\n",
                        "`was_after` must be a non-empty string"),
    "to empty": ("- op: rename\n  key: priority_net.batch_size\n  to: ''\n", "`to` must be a non-empty string"),
}


@pytest.mark.parametrize("what", list(MALFORMED))
def test_a_malformed_revision_is_one_line_in_every_command(chain, what):
    body, words = MALFORMED[what]
    (chain / "2025-11-20_e.yaml").write_text(_change(body))
    cfg = chain.parent / "c.yaml"
    cfg.write_text("revision: d\npriority_net:\n  batch_size: 12\n")
    at_load = "through" not in what and "on a number" not in what  # else found when applied
    for args in (["show", "head"], ["migrate", str(cfg)], ["diff", "d", "head"]) + ((["history"],) if at_load else ()):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert words in res.output and "Traceback" not in res.output, (args, res.output)
        assert len(res.output.strip().splitlines()) == 1, (args, res.output)
    assert cfg.read_text() == "revision: d\npriority_net:\n  batch_size: 12\n"


def test_show_head_on_a_thousand_revision_chain():
    """The graph is pure logic: a 1,000-revision line in memory, no recursion anywhere."""
    from ahsd_config.migrate.graph import RevisionMap
    from ahsd_config.migrate.model import Change, Revision

    revs = [Revision(f"r{i}", (f"r{i - 1}",) if i else (), "2025-01-01", f"step {i}",
                     (Change("set", "why", key="priority_net.batch_size", old=i, new=i + 1),))
            for i in range(1000)]
    rmap = RevisionMap(lambda: revs)
    assert "batch_size: 1000" in C.show_text("head", rmap)
    assert rmap.path(None, "r999")[-1].revision.id == "r999" and len(rmap.order) == 1000


# -------------------------------------------------------------- every single-file writer
_RMAP = []


def _rmap():
    """The project chain, loaded once (its states are cached) and shared with forked children."""
    if not _RMAP:
        _RMAP.append(store.load_map(ROOT / "migrations"))
    return _RMAP[0]


def _validate_output(cfg: Path, out: Path) -> None:
    res = runner.invoke(app, ["validate", str(cfg), "--format", "json", "--output", str(out)])
    if res.exit_code == 2:  # the CLI turned the injected OSError into one line; surface it
        raise OSError(res.output.strip())


def _writers(tmp: Path) -> dict:
    """name -> (the file it replaces, a call that writes it)."""
    from ahsd_config.schema.schemagen import write_json_schema

    cfg = tmp / "c.yaml"
    return {
        "migrate": (cfg, lambda: C.migrate(cfg, "v15e", rmap=_rmap(), validate=False)),
        "stamp": (cfg, lambda: C.stamp(cfg, "v15e", rmap=_rmap())),
        "schema": (tmp / "schema.json", lambda: write_json_schema(tmp / "schema.json")),
        "validate --output": (tmp / "report.json", lambda: _validate_output(cfg, tmp / "report.json")),
    }


def _prepare(tmp: Path) -> None:
    for p in tmp.iterdir():
        p.unlink()
    (tmp / "c.yaml").write_text(C.show_text("v15d", _rmap()))
    for name in ("schema.json", "report.json"):
        (tmp / name).write_text("old\n")


@pytest.mark.parametrize("writer", ["migrate", "stamp", "schema", "validate --output"])
def test_every_writer_failing_or_killed_at_any_step_leaves_old_or_new(tmp_path, writer):
    tmp = tmp_path / "w"
    tmp.mkdir()
    target, write = _writers(tmp)[writer]
    _prepare(tmp)
    old = target.read_bytes()
    steps = count_steps(tmp, write)
    new = target.read_bytes()
    assert new != old and steps >= 3
    swept = False
    for n in range(1, steps + 1):
        _prepare(tmp)
        exc = fail_at(tmp, n, write)
        assert target.read_bytes() == (new if exc is None else old), f"step {n}"
        assert not [p.name for p in tmp.iterdir() if p.name.endswith(".tmp")], f"step {n}: temp left"
        _prepare(tmp)
        die_at(tmp, n, write)
        assert target.read_bytes() in (old, new), f"step {n}: half-written after a kill"
        if [p for p in tmp.iterdir() if p.name.endswith(".tmp")]:  # killed between stage and rename
            write()  # the next write sweeps what the killed one left
            assert not [p.name for p in tmp.iterdir() if p.name.endswith(".tmp")], f"step {n}: temp not swept"
            swept = True
    assert swept  # some kill landed after a temp file was staged


# ------------------------------------------------------------- commit_files, as a property
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NAMES = st.sampled_from(["a.yaml", "b.yaml", "c.yaml", "d.yaml"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(existing=st.dictionaries(_NAMES, st.binary(max_size=20), max_size=4),
       writes=st.dictionaries(_NAMES, st.binary(max_size=20), max_size=3),
       removes=st.lists(_NAMES, max_size=3, unique=True), fail=st.integers(1, 25))
def test_commit_files_is_all_or_nothing_for_any_set_and_any_failing_step(tmp_path_factory, existing, writes,
                                                                          removes, fail):
    folder = tmp_path_factory.mktemp("set")
    for name, data in existing.items():
        (folder / name).write_bytes(data)
    old = snapshot(folder)
    expected = {**{n: d for n, d in old.items() if n not in removes or n in writes}, **writes}
    exc = fail_at(folder, fail, lambda: commit_files(folder, writes, [r for r in removes if r not in writes]))
    after = snapshot(folder, ignore=(".ahsd.lock",))
    assert after == (old if exc is not None else expected)
