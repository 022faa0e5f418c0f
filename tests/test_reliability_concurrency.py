"""Writers of the chain and of one config, run at once, end as some serial order would leave them.

Each case holds the revision folder's lock (`migrations/.ahsd.lock`) in this process, starts the
two commands, waits until both have the lock file open (each has then started its chain read, or
before the fix had read the chain and was waiting to commit), and lets them go together: the race
the commands would otherwise win or lose by timing, made certain.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ahsd_config.api.migrations import current
from ahsd_config.input.files import JOURNAL, file_lock
from ahsd_config.migrate.store import load_map
from transient import TRANSIENT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "enhanced_training.yaml"
CODE = "import sys; from ahsd_config.cli.app import main; sys.argv = ['ahsd-config', *sys.argv[1:]]; main()"


def _project(tmp: Path) -> Path:
    import shutil

    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "pyproject.toml").write_text('[tool.ahsd]\nmigrations = "migrations"\n')
    shutil.copytree(ROOT / "migrations", tmp / "migrations", ignore=TRANSIENT)
    (tmp / "configs").mkdir()
    text = CONFIG.read_text()
    for name, batch in (("a", 96), ("b", 160)):  # two different edits of head's config
        (tmp / "configs" / f"{name}.yaml").write_text(text.replace("  batch_size: 128 ", f"  batch_size: {batch} ", 1))
    return tmp


def _holding_lock(pid: int, lock: Path) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(lock) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def _race(tmp: Path, *commands: list[str]) -> list[subprocess.CompletedProcess]:
    lock = (tmp / "migrations" / ".ahsd.lock").resolve()
    with file_lock(tmp / "migrations" / ".ahsd", timeout=30.0):
        procs = [subprocess.Popen([sys.executable, "-c", CODE, *argv], cwd=tmp, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for argv in commands]
        deadline = time.monotonic() + 25
        while not all(_holding_lock(p.pid, lock) or p.poll() is not None for p in procs):
            assert time.monotonic() < deadline, "the commands never reached the chain"
            time.sleep(0.02)
    out = []
    for p, argv in zip(procs, commands):
        stdout, stderr = p.communicate(timeout=60)
        out.append(subprocess.CompletedProcess(argv, p.returncode, stdout, stderr))
    return out


def _leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.rglob("*") if p.name.endswith((".lock", ".tmp")) or p.name == JOURNAL)


def test_two_revisions_at_once_make_a_chain_not_a_fork(tmp_path):
    """Before: both read head H and wrote a revision on H (two heads); without --id both took the
    same fresh id and the second replaced the first's file (a revision lost, its FILE stamped at
    another's changes)."""
    for ids in (["--id", "vra"], ["--id", "vrb"]), ([], []):
        tmp = _project(tmp_path / ("ids" if ids[0] else "fresh"))
        before = load_map(tmp / "migrations").head
        done = _race(tmp, *(["revision", "-m", f"t{n}", "--from", f"configs/{n}.yaml", *extra]
                            for n, extra in zip("ab", ids)))
        assert [p.returncode for p in done] == [0, 0], [p.stderr for p in done]
        chain = load_map(tmp / "migrations")
        assert len(chain.heads) == 1
        new = [r for r in chain.by_id if r not in load_map(ROOT / "migrations").by_id]
        assert len(new) == 2  # both revisions kept
        first, second = sorted(new, key=lambda r: chain.get(r).parents != (before,))
        assert chain.get(first).parents == (before,) and chain.get(second).parents == (first,)
        for name in "ab":  # each FILE is stamped at a revision whose state it is
            found = current(tmp / "configs" / f"{name}.yaml", chain)
            assert found.stamped and found.exact and found.revision in new, found
        assert _leftovers(tmp) == []


def test_squash_beside_a_migrate_of_the_same_chain(tmp_path):
    """A migrate reads the chain whole, before or after the squash's set, never half of it."""
    tmp = _project(tmp_path)
    cfg = tmp / "configs" / "c.yaml"
    cfg.write_bytes(CONFIG.read_bytes())
    down = subprocess.run([sys.executable, "-c", CODE, "migrate", "configs/c.yaml", "--to", "v260207"], cwd=tmp,
                          capture_output=True, text=True, timeout=60)
    assert down.returncode == 0, down.stderr
    (tmp / "configs" / "c.yaml.bak").unlink()
    done = _race(tmp, ["migrate", "configs/c.yaml"], ["squash", "v260702", "v260707", "-m", "both"])
    assert [p.returncode for p in done] == [0, 0], [p.stderr for p in done]
    chain = load_map(tmp / "migrations")
    assert "v260702" not in chain.by_id and len(chain.heads) == 1
    assert f"revision: {chain.head}" in cfg.read_text()
    assert _leftovers(tmp) == []
