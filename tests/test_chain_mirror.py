"""`ahsd_config/chain/` is the installed copy of `migrations/`: the two must never drift apart."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("sync_chain", ROOT / "tools" / "sync_chain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_chain_is_a_byte_identical_copy_of_migrations():
    drift = _tool().differences()
    assert drift == [], f"run `python tools/sync_chain.py`; these differ: {drift}"


def test_sync_copies_new_files_and_drops_stale_ones(tmp_path):
    tool = _tool()
    source, shipped = tmp_path / "migrations", tmp_path / "chain"
    source.mkdir(), shipped.mkdir()
    (source / "a.yaml").write_text("id: a\n")
    (source / "b.yaml").write_text("id: b\n")
    (shipped / "b.yaml").write_text("id: old\n")
    (shipped / "gone.yaml").write_text("id: gone\n")
    assert tool.differences(source, shipped) == ["a.yaml", "b.yaml", "gone.yaml"]
    tool.sync(source, shipped)
    assert tool.differences(source, shipped) == []
    assert sorted(p.name for p in shipped.iterdir()) == ["a.yaml", "b.yaml"]
