"""Hostile input is refused the same way wherever it sits, in linear time, and every reader is
bounded (issue 9, items 4-6 and the low classes: encodings, line endings, modes, symlinks)."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from ahsd_config.errors import InputError
from ahsd_config.input.loader import load_text
from ahsd_config.api import migrations as C
from ahsd_config.migrate import store
from ahsd_config.api.validate import validate_document
from scaling import best_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
CHAIN = ROOT / "migrations"
runner = CliRunner()


def _nested_key_bomb(levels: int) -> str:
    """Anchored list keys, each holding nine aliases of the one before (344 bytes at 4 levels):
    stringifying such a key used to take 40 s, x10 per level."""
    text = 'priority_net:\n  ? &k0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n  : 0\n'
    for i in range(1, levels + 1):
        text += f"  ? &k{i} [" + ", ".join([f"*k{i - 1}"] * 9) + f"]\n  : {i}\n"
    return text


# Each unsafe construct, written as a value and as a key: both must be refused, with the same words.
UNSAFE = {
    "python tag": ("!!python/object/apply:os.system [echo hi]", "is not allowed in a config"),
    "huge integer": ("9" * 5000, "digits"),
    "lone surrogate": ('"\\ud800"', "surrogate pair"),
    "list": ("[a, b]", None),
}


@pytest.mark.parametrize("what", list(UNSAFE))
def test_keys_get_the_same_refusals_as_values(what):
    text, words = UNSAFE[what]
    as_value = f"priority_net:\n  batch_size: {text}\n"
    as_key = f"priority_net:\n  ? {text}\n  : 1\n"
    if words is not None:
        with pytest.raises(InputError, match=words):
            load_text(as_value)
    with pytest.raises(InputError, match=words or "a key must be a plain name"):
        load_text(as_key)


def test_an_alias_bomb_in_keys_is_refused_at_once():
    started = time.perf_counter()
    with pytest.raises(InputError, match="a key must be a plain name, found a list"):
        load_text(_nested_key_bomb(6))
    assert time.perf_counter() - started < 2.0  # was 40 s for 4 levels; refused before building


def _unknown_keys(n: int) -> str:
    return "priority_net:\n" + "".join(f"  unknown_key_{i}: {i}\n" for i in range(n))


def test_validation_is_linear_in_the_number_of_unknown_keys():
    """N and 4N unknown keys: linear work takes ~4x; the old quadratic path took ~16x."""
    small, large = _unknown_keys(400), _unknown_keys(1600)
    report = validate_document(load_text(large))
    assert sum(f.code == "AHSD901" for f in report.findings) == 1600
    t_small = best_cpu_seconds(2, lambda: validate_document(load_text(small)))
    t_large = best_cpu_seconds(2, lambda: validate_document(load_text(large)))
    assert t_large / t_small < 8.0, (t_small, t_large)


# ------------------------------------------------------------------------------ bounded reads
@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory"])
def test_special_files_are_refused_before_reading(tmp_path, kind):
    if kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)
    else:
        path = tmp_path
    result: list = []
    t = threading.Thread(target=lambda: result.append(runner.invoke(app, ["validate", str(path)])), daemon=True)
    t.start()
    t.join(10)
    assert result, f"validate {kind} hung"
    res = result[0]
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert ("not a regular file" in res.output) or ("is a directory" in res.output)


# ------------------------------------------------------------- writes: links, modes, endings
def _config_at(tmp_path: Path, rev: str = "v15d", name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(C.show_text(rev, store.load_map(CHAIN)))
    return path


def test_a_symlinked_config_is_migrated_through_to_its_target(tmp_path):
    target = _config_at(tmp_path, name="real.yaml")
    link = tmp_path / "link.yaml"
    link.symlink_to(target.name)
    C.migrate(link, "v15e", rmap=store.load_map(CHAIN))
    assert link.is_symlink() and os.readlink(link) == "real.yaml"
    assert "revision: v15e" in target.read_text()
    assert (tmp_path / "real.yaml.bak").exists() and not (tmp_path / "link.yaml.bak").exists()


def test_a_read_only_config_is_refused_not_rewritten(tmp_path):
    cfg = _config_at(tmp_path)
    cfg.chmod(0o444)
    before = cfg.read_bytes()
    res = runner.invoke(app, ["migrate", str(cfg), "--to", "v15e"])
    assert res.exit_code == 2 and "read-only" in res.output, res.output
    assert cfg.read_bytes() == before and stat.S_IMODE(cfg.stat().st_mode) == 0o444


def test_a_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path):
    cfg = _config_at(tmp_path)
    cfg.chmod(0o640)
    C.migrate(cfg, "v15e", rmap=store.load_map(CHAIN))
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o640
    old = os.umask(0o022)
    try:
        out = tmp_path / "report.json"
        assert runner.invoke(app, ["validate", str(cfg), "--format", "json", "--output", str(out)]).exit_code in (0, 1)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_a_crlf_config_keeps_crlf_on_every_line_after_migrate(tmp_path):
    cfg = _config_at(tmp_path)
    cfg.write_bytes(cfg.read_bytes().replace(b"\n", b"\r\n"))
    C.migrate(cfg, "head", rmap=store.load_map(CHAIN))
    data = cfg.read_bytes()
    assert b"revision: " in data and data.count(b"\n") == data.count(b"\r\n")


# ---------------------------------------------------------------------------------- encodings
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_lone_surrogate_is_one_line_in_every_format(tmp_path, fmt):
    cfg = tmp_path / "s.yaml"
    cfg.write_text('revision: v15\npriority_net:\n  "\\ud800x": 1\n')
    res = runner.invoke(app, ["validate", str(cfg), "--format", fmt])
    assert res.exit_code == 2 and "surrogate" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["current", str(cfg)])
    assert res.exit_code == 2 and "s.yaml:3:3: error:" in res.output


@pytest.mark.parametrize("bak", ["directory", "symlink"])
def test_a_bak_that_is_a_directory_or_a_symlink_is_one_line_and_nothing_changes(tmp_path, bak):
    cfg = _config_at(tmp_path)
    before = cfg.read_bytes()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    if bak == "directory":
        (tmp_path / "c.yaml.bak").mkdir()
    else:
        (tmp_path / "c.yaml.bak").symlink_to(victim)
    res = runner.invoke(app, ["migrate", str(cfg), "--to", "v15e"])
    assert res.exit_code == 2 and "c.yaml.bak" in res.output and "Traceback" not in res.output, res.output
    assert cfg.read_bytes() == before and victim.read_text() == "keep me\n"


def test_enospc_during_migrate_is_one_line_and_the_file_is_untouched(tmp_path, monkeypatch):
    import errno

    cfg = _config_at(tmp_path)
    before = cfg.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    res = runner.invoke(app, ["migrate", str(cfg), "--to", "v15e"])
    monkeypatch.undo()
    assert res.exit_code == 2 and f"{cfg}.bak:1:1: error: cannot write here: No space left on device; nothing was replaced" in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1
    assert cfg.read_bytes() == before and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
