"""`validate -o` naming a config being validated (any spelling of it: relative, absolute, through
`..` or a symlink) is refused, exit 2, the config byte-for-byte unchanged; it used to replace the
config by its own report, exit 0 (hostile review after the issue 11 redesign). Both roads of the
command: the plain fast path (`main()`) and Typer."""

from __future__ import annotations

import errno
import json
import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ahsd_config.cli.app import app, main
from transient import TRANSIENT  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIG = (REPO / "configs" / "enhanced_training.yaml").read_bytes()


def spellings(folder: Path) -> dict[str, str]:
    os.symlink("c.yaml", folder / "link.yaml")
    return {"relative": "c.yaml", "absolute": str(folder / "c.yaml"), "dotdot": f"../{folder.name}/c.yaml",
            "dot": "./c.yaml", "symlink": "link.yaml"}


def run_plain(args: list[str], monkeypatch) -> int:
    monkeypatch.setattr(sys, "argv", ["ahsd-config", *args])
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # main() wraps it; the wrapper must not outlive the test
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spelling=st.sampled_from(["relative", "absolute", "dotdot", "dot", "symlink"]),
       fmt=st.sampled_from(["text", "json", "sarif", "github"]), glob=st.booleans(), plain=st.booleans())
def test_the_report_never_replaces_a_config_it_validates(tmp_path_factory, monkeypatch, spelling, fmt, glob, plain):
    folder = tmp_path_factory.mktemp("v")
    (folder / "c.yaml").write_bytes(CONFIG)
    target = spellings(folder)[spelling]
    monkeypatch.chdir(folder)
    args = ["validate", "-f", fmt, "-o", target, "*.yaml" if glob else "c.yaml"]
    code = run_plain(args, monkeypatch) if plain else CliRunner().invoke(app, args).exit_code
    assert code == 2
    assert (folder / "c.yaml").read_bytes() == CONFIG
    assert (folder / "link.yaml").is_symlink()


# --------------------------------------------------------------------------- merge writes one head

def _side_revision(parent: str) -> str:
    return (f"id: vside\nparents: [{parent}]\ndate: '2026-11-30'\ntitle: a side branch\nchanges: []\n")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), side=st.booleans())
def test_merge_writes_a_chain_with_one_head_or_nothing(tmp_path_factory, pick, side):
    """`merge v13 v13` and `merge v13 v15` used to write a revision that left two heads, which the
    gate's single-head check then refused. Any pair: one head after, or refused with nothing written."""
    import shutil

    from ahsd_config.api import migrations as commands
    from ahsd_config.errors import AhsdConfigError
    from ahsd_config.migrate import store

    chain = tmp_path_factory.mktemp("m") / "migrations"
    shutil.copytree(REPO / "migrations", chain, ignore=TRANSIENT)
    rmap = store.load_map(chain)
    if side:  # a second head beside the real one
        (chain / "2026-11-30_vside.yaml").write_text(_side_revision(rmap.get(rmap.head).parents[0]))
        rmap = store.load_map(chain)
    ids = list(rmap.order) + ["head"]
    a, b = ids[pick[0] % len(ids)], ids[pick[1] % len(ids)]
    before = sorted(p.name for p in chain.iterdir())
    try:
        commands.merge(a, b, "join", rmap=rmap, folder=chain)
    except AhsdConfigError as refused:  # `head` among two heads, a repeated or non-head revision
        assert refused.exit_code == 2
        assert sorted(p.name for p in chain.iterdir()) == before
        return
    assert len(store.load_map(chain).heads) == 1


def test_merge_of_the_two_heads_is_written(tmp_path):
    import shutil

    from ahsd_config.api import migrations as commands
    from ahsd_config.migrate import store

    chain = tmp_path / "migrations"
    shutil.copytree(REPO / "migrations", chain, ignore=TRANSIENT)
    head = store.load_map(chain).head
    (chain / "2026-11-30_vside.yaml").write_text(_side_revision(store.load_map(chain).get(head).parents[0]))
    commands.merge("vside", head, "join", rev_id="vjoin", rmap=store.load_map(chain), folder=chain)
    assert store.load_map(chain).heads == ["vjoin"]


# --------------------------------------------------------------------------- standard output fails

class _FullDisk(io.RawIOBase):
    """A stdout whose every write fails as a full disk does (ENOSPC)."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def _project(folder: Path) -> Path:
    """A copy of the project (config, chain, pyproject): a chain read takes `migrations/.ahsd.lock`,
    which must never appear in the checkout's own folder while another test copies it."""
    (folder / "configs").mkdir(parents=True)
    (folder / "configs" / "enhanced_training.yaml").write_bytes(CONFIG)
    shutil.copytree(REPO / "migrations", folder / "migrations", ignore=TRANSIENT)
    shutil.copy(REPO / "pyproject.toml", folder / "pyproject.toml")
    return folder


PRINTERS = [["validate", "configs/enhanced_training.yaml"], ["validate", "-f", "json", "configs/enhanced_training.yaml"],
            ["history"], ["heads"], ["show", "head"], ["log", "priority_net.batch_size"], ["diff", "v11", "head"],
            ["explain", "AHSD101"], ["schema", "-o", "-"], ["current", "configs/enhanced_training.yaml"],
            ["check-migrations"], ["migrate", "configs/enhanced_training.yaml", "--to", "v11", "--dry-run"],
            ["--help"], ["--version"]]


def _every_help() -> list[list[str]]:
    from ahsd_config.cli.app import build_app

    return [[command.name or command.callback.__name__, "--help"] for command in build_app().registered_commands]


def test_a_stdout_that_cannot_be_written_is_one_line_exit_2_for_every_command(tmp_path, monkeypatch, capsys):
    """`ahsd-config --help > /dev/full` was an OSError traceback (click's echo) and `validate` said
    '<file>:1:1: error: ...': every command, the help of each and --version, failing at the first
    write or only at the final flush, ends in one line naming standard output, exit 2."""
    monkeypatch.chdir(_project(tmp_path))
    cases = PRINTERS + _every_help()
    assert len(cases) > len(PRINTERS) + 10
    for n, args in enumerate(cases):
        buffered = n % 2 == 1  # every other case fails only at the final flush, not at the first write
        stream = io.TextIOWrapper(io.BufferedWriter(_FullDisk(), 1 << 16), line_buffering=not buffered)
        monkeypatch.setattr(sys, "stdout", stream)
        code = run_plain(args, monkeypatch)
        err = capsys.readouterr().err
        assert (args, code, err) == (args, 2, "error: cannot write to standard output: No space left on device\n")


def test_a_reader_that_went_away_ends_the_command_by_sigpipe_silently(tmp_path):
    """`ahsd-config history | head -1`: no traceback, no 'Exception ignored', no status that reads
    as findings (1) or bad input (2): the process dies of SIGPIPE, as cat and git do."""
    exe = REPO / ".venv/bin/ahsd-config"
    if not exe.exists():
        pytest.skip("needs the project's .venv (make install)")
    for args in (["history"], ["validate", "configs/enhanced_training.yaml"], ["--help"]):
        reader, writer = os.pipe()
        os.close(reader)
        proc = subprocess.run([str(exe), *args], cwd=_project(tmp_path / args[0]), stdout=writer,
                              stderr=subprocess.PIPE, timeout=60)
        os.close(writer)
        assert (args, proc.returncode, proc.stderr) == (args, -signal.SIGPIPE, b"")


# --------------------------------------------------------------------------- user text stays on one line

NEWLINE_ARGS = [["validate", "{}"], ["validate", "c.yaml", "{}"], ["migrate", "{}"], ["stamp", "{}", "head"],
                ["stamp", "c.yaml", "{}"], ["current", "{}"], ["show", "{}"], ["explain", "{}"], ["log", "{}"],
                ["diff", "{}", "head"], ["diff", "v11", "{}"], ["check-migrations", "{}"], ["history", "-r", "{}"],
                ["squash", "{}", "head"], ["merge", "{}", "head", "-m", "t"], ["migrate", "c.yaml", "--to", "{}"],
                ["schema", "-o", "{}", "--check"], ["revision", "-m", "t", "--from", "{}"]]


def test_user_text_with_a_line_break_is_one_error_line(tmp_path, monkeypatch, capsys):
    """`ahsd-config validate $'a\\nb'` printed `a` and `b:1:1: error: no such file: a` on two lines
    (hostile pass, issue 9): user text in any error (a path, a revision, a key, a ref) is written
    with its line break as `\\n`, by the one stderr writer, on both roads (plain validate and Typer)."""
    (_project(tmp_path) / "c.yaml").write_bytes(CONFIG)
    monkeypatch.chdir(tmp_path)
    texts = ["a\nb", "x\r\n  indented\x1b[2J"]  # a break, and one that would pass for a detail line
    for n, args in enumerate(NEWLINE_ARGS):
        text = texts[n % 2]
        code = run_plain([text if a == "{}" else a for a in args], monkeypatch)
        err = capsys.readouterr().err
        assert (args, code in (1, 2), len(err.splitlines())) == (args, True, 1), err
        assert "\x1b" not in err


@given(code=st.sampled_from(sorted(errno.errorcode)), named=st.booleans())
def test_an_os_error_names_its_file_or_none_never_a_made_up_one(code, named):
    """An OSError without a file name (a write to an open descriptor, the working folder gone)
    was rendered `<file>:1:1: error: ...`."""
    from ahsd_config.errors import from_os_error

    exc = OSError(code, os.strerror(code), "dir/c.yaml") if named else OSError(code, os.strerror(code))
    text = from_os_error(exc).render()
    assert "<file>" not in text and len(text.splitlines()) == 1
    assert text.startswith("dir/c.yaml:1:1: error: " if named else f"error: {os.strerror(code)}")


def test_a_deleted_working_folder_is_one_line_naming_it(tmp_path):
    exe = REPO / ".venv/bin/ahsd-config"
    if not exe.exists():
        pytest.skip("needs the project's .venv (make install)")
    for args in (["history"], ["validate", "c.yaml"], ["ci", "--base", "main"]):
        proc = subprocess.run(["sh", "-c", 'mkdir gone && cd gone && rmdir ../gone && exec "$0" "$@"', str(exe), *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert (args, proc.returncode, proc.stderr) == (args, 2, "error: the current folder no longer exists (it was "
                                                        "deleted after this shell entered it); cd to one that exists\n")


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"},
                                 {"PYTHONIOENCODING": "latin-1"}], ids=["ascii", "C-locale", "latin-1"])
def test_an_output_encoding_without_the_characters_escapes_them(tmp_path, env):
    """`LANG=C PYTHONUTF8=0 ahsd-config validate` of a config with a non-ASCII key was a
    UnicodeEncodeError traceback (hostile pass, issue 9): a character the stream cannot hold is now
    written `\\uXXXX`, so text stays one readable line and a JSON report reads back with the key."""
    exe = REPO / ".venv/bin/ahsd-config"
    if not exe.exists():
        pytest.skip("needs the project's .venv (make install)")
    key = "\u00e9\U0001F600\u4e2d"
    (tmp_path / "u.yaml").write_text(f'priority_net:\n  "{key}": 1\n', encoding="utf-8")
    full_env = {**os.environ, **env}
    for fmt in ("text", "json", "sarif", "github") if "ascii" in str(env) else ("json",):
        proc = subprocess.run([str(exe), "validate", "u.yaml", "-f", fmt], cwd=tmp_path,
                              env=full_env, capture_output=True, timeout=60)
        assert (fmt, proc.returncode, proc.stderr) == (fmt, 1, b"")  # 1: the unknown key is an error
        if fmt == "json":
            findings = json.loads(proc.stdout.decode(env.get("PYTHONIOENCODING", "ascii")))["files"][0]["findings"]
            assert any(key in f["key"] for f in findings)
    proc = subprocess.run([str(exe), "explain", key], cwd=tmp_path, env=full_env, capture_output=True, timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1 and b"Traceback" not in proc.stderr
