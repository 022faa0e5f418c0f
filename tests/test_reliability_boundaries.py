"""The third hostile pass over `ahsd-config` (issue 9's "fresh pass"): every place where something
outside the tool (a planted file, a pull request, a report option) meets the file system.

Classes, each fixed at its mechanism and attacked here as a class:
- every read goes through the bounded reader: FILE.bak, the journal, pyproject.toml, `schema
  --check`'s file and check-migrations' revision files were read raw (a FIFO hung the command,
  /dev/zero filled memory). A source scan pins that no module reads a file any other way.
- a journal is data from disk, not an instruction: one planted in migrations/ renamed
  pyproject.toml (or any absolute path) over a revision file, or gave a traceback.
- appends (`--summary`, $GITHUB_STEP_SUMMARY) go only to a regular file or a character device.
- a report never replaces an input: `ci --sarif/--summary`, `schema -o`, `validate -o` at a config,
  a revision file or pyproject.toml.
- `diff --format json` is strict JSON for every value YAML can build (NaN, dates, sets, tags).
- names: a dangling or looping symlink is named as such (not its `.lock`), a file in the way of
  an output folder is named, a duplicate number/boolean key is a mapping key (`priority_net.1`).
"""

from __future__ import annotations

import ast
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ahsd_config.cli.app import app
from ahsd_config.errors import InputError
from ahsd_config.input.files import JOURNAL, append_text, commit_files, recover
from transient import TRANSIENT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "enhanced_training.yaml"
runner = CliRunner()


# ------------------------------------------------------------------ every read is bounded
# Files a module may read without the bounded reader: data shipped inside the package.
_PACKAGE_DATA_READS = {("ahsd_config/migrate/order.py", "FROZEN_ORDER_FILE")}


def test_no_module_reads_a_file_except_through_the_bounded_reader():
    """`Path.read_text/read_bytes` and `open(...)` for reading, anywhere in ahsd_config, is the class
    that hung on a FIFO and filled memory on /dev/zero; only `input/files.py` opens files."""
    offenders = []
    for path in sorted((ROOT / "ahsd_config").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "ahsd_config/input/files.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("read_text", "read_bytes") and isinstance(func, ast.Attribute):
                owner = ast.unparse(func.value)
                if (rel, owner) in _PACKAGE_DATA_READS or owner in ("self",):
                    continue
                offenders.append(f"{rel}:{node.lineno} {ast.unparse(node)}")
            elif name == "open" and isinstance(func, ast.Name):
                offenders.append(f"{rel}:{node.lineno} {ast.unparse(node)}")
    assert offenders == []


def _project(tmp: Path) -> Path:
    import shutil

    (tmp / "pyproject.toml").write_text('[tool.ahsd]\nmigrations = "migrations"\n')
    shutil.copytree(ROOT / "migrations", tmp / "migrations", ignore=TRANSIENT)
    (tmp / "configs").mkdir()
    (tmp / "configs" / "c.yaml").write_bytes(CONFIG.read_bytes())
    return tmp


def _run(tmp: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A real process with a deadline: a read that blocks on a FIFO fails the test, not the suite."""
    code = "import sys; from ahsd_config.cli.app import main; sys.argv = ['ahsd-config', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp, capture_output=True, text=True,
                          timeout=30, env={**os.environ, **(env or {})})


PLANTED = {  # what a planted special file is, and where: the command that reads it
    "FILE.bak": ("configs/c.yaml.bak", ["migrate", "configs/c.yaml", "--to", "v260707"]),
    "journal": (f"migrations/{JOURNAL}", ["heads"]),
    "pyproject.toml": ("pyproject.toml", ["heads"]),
    "schema --check": ("s.json", ["schema", "-o", "s.json", "--check"]),
    "a revision file": ("migrations/2099-01-01_vz.yaml", ["check-migrations"]),
}


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
@pytest.mark.parametrize("where", list(PLANTED))
def test_a_planted_fifo_or_device_is_never_read(tmp_path, where, kind):
    tmp = _project(tmp_path)
    rel, args = PLANTED[where]
    if (tmp / rel).exists():
        (tmp / rel).unlink()
    if kind == "fifo":
        os.mkfifo(tmp / rel)
    else:
        os.symlink("/dev/zero", tmp / rel)
    proc = _run(tmp, *args)  # used to hang (FIFO) or read until memory ran out (/dev/zero)
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 1, 2)
    if proc.returncode == 2:
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


# ------------------------------------------------------------------------ hostile journals
_names = st.sampled_from(["2025-11-11_v11.yaml", "../pyproject.toml", "/etc/hostname", "x.yaml", "",
                          ".hidden", "a/b.yaml", ".x.yaml.1.abc.tmp", ".2025-11-11_v11.yaml.1.ab.tmp", "\udcff"])
_outside = st.sampled_from(["/etc/hostname", "/tmp/../etc/x.yaml", "x.yaml", "/no/such/c.yaml", "/tmp/c.yaml/",
                            "../pyproject.toml", "/tmp/\udcff.yaml", "/tmp/.c.yaml"])
_json_junk = st.recursive(st.none() | st.booleans() | st.integers() | _names,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=3),
                          max_leaves=6)
_journals = st.one_of(
    _json_junk.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"writes": st.dictionaries(_names, _names, max_size=3),
                           "removes": st.lists(_names, max_size=3)}).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"writes": st.dictionaries(_names, _names, max_size=2),
                           "removes": st.lists(_names, max_size=2),
                           "outside": st.dictionaries(_outside, _names, max_size=2)}).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journal=_journals)
def test_a_journal_is_followed_only_when_it_is_one_this_tool_writes(tmp_path_factory, journal):
    """Whatever a journal holds, recovery touches nothing outside the folder, and one it did not
    write is refused (InputError, exit 2) with the folder unchanged."""
    tmp = tmp_path_factory.mktemp("j")
    folder = tmp / "migrations"
    folder.mkdir()
    (tmp / "pyproject.toml").write_text("outside\n")
    (folder / "2025-11-11_v11.yaml").write_text("v11\n")
    (folder / JOURNAL).write_bytes(journal)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != JOURNAL}
    try:
        recover(folder)
    except InputError as refused:
        assert refused.exit_code == 2
        assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name != JOURNAL} == before
        assert (folder / JOURNAL).read_bytes() == journal  # left for a person to look at
    else:  # only a journal of the shape commit_files writes is acted on
        data = json.loads(journal)
        assert set(data) in ({"writes", "removes"}, {"writes", "removes", "outside"})
        assert all(tmp.startswith(f".{name}.") for name, tmp in data["writes"].items())
        assert all(path.endswith(".yaml") and os.path.isabs(path) for path in data.get("outside", {}))
    assert (tmp / "pyproject.toml").read_text() == "outside\n"


def test_a_planted_journal_cannot_move_a_file_into_the_chain(tmp_path):
    tmp = _project(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    (tmp / "migrations" / JOURNAL).write_text(json.dumps(
        {"writes": {"2025-11-11_v11.yaml": "../pyproject.toml", "x.yaml": str(victim)}, "removes": []}))
    proc = _run(tmp, "heads")
    assert proc.returncode == 2 and "it is not a journal ahsd-config wrote" in proc.stderr
    assert victim.read_text() == "mine\n" and (tmp / "pyproject.toml").is_file()
    assert not (tmp / "migrations" / "x.yaml").exists()


def test_a_planted_journal_cannot_replace_a_file_outside_the_chain_that_is_not_a_config(tmp_path):
    """`outside` (a config stamped with the revision it records) names only absolute, normalised
    YAML paths: pyproject.toml, a relative path or one through `..` is refused."""
    tmp = _project(tmp_path)
    (tmp / ".pyproject.toml.999999.x.tmp").write_text("[tool.ahsd]\nmigrations = '/'\n")
    (tmp / "configs" / ".c.yaml.999999.x.tmp").write_text("planted\n")
    before = (tmp / "pyproject.toml").read_bytes(), (tmp / "configs" / "c.yaml").read_bytes()
    for target, staged in [(str(tmp / "pyproject.toml"), ".pyproject.toml.999999.x.tmp"),
                           (f"{tmp}/migrations/../configs/c.yaml", ".c.yaml.999999.x.tmp"),
                           ("configs/c.yaml", ".c.yaml.999999.x.tmp")]:
        (tmp / "migrations" / JOURNAL).write_text(json.dumps({"writes": {}, "removes": [], "outside": {target: staged}}))
        proc = _run(tmp, "heads")
        assert proc.returncode == 2 and "it is not a journal ahsd-config wrote" in proc.stderr, (target, proc.stderr)
        assert ((tmp / "pyproject.toml").read_bytes(), (tmp / "configs" / "c.yaml").read_bytes()) == before


def test_a_real_journal_still_completes(tmp_path):
    commit_files(tmp_path, {"a.yaml": b"a\n"})
    (tmp_path / ".b.yaml.999999.x.tmp").write_bytes(b"b\n")
    (tmp_path / JOURNAL).write_text(json.dumps({"writes": {"b.yaml": ".b.yaml.999999.x.tmp"}, "removes": ["a.yaml"]}))
    assert recover(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.yaml"]


# ------------------------------------------------------------------------------ appends
@pytest.mark.parametrize("kind", ["fifo", "directory", "socket"])
def test_an_append_to_anything_but_a_file_or_a_terminal_is_refused_at_once(tmp_path, kind):
    import socket

    target = tmp_path / "summary"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
        sock.close()
    with pytest.raises(OSError) as refused:  # a FIFO used to block forever
        append_text(target, "x\n")
    assert refused.value.filename == str(target)


def test_an_append_to_a_file_or_dev_null_works(tmp_path):
    append_text(tmp_path / "s.md", "a\n")
    append_text(tmp_path / "s.md", "b\n")
    append_text("/dev/null", "x\n")
    assert (tmp_path / "s.md").read_text() == "a\nb\n"


# ------------------------------------------------------------------- reports never replace inputs
@pytest.fixture(scope="module")
def gate_repo(tmp_path_factory):
    repo = _project(tmp_path_factory.mktemp("gate"))
    (repo / "configs" / "other.yml").write_text("priority_net: {}\n")
    os.symlink("configs/c.yaml", repo / "link.yaml")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)
    return repo


REPORTS = {
    "ci --sarif": lambda t: (["ci", "--base", "main", "--sarif", t], {}),
    "ci --summary": lambda t: (["ci", "--base", "main", "--summary", t], {}),
    "GITHUB_STEP_SUMMARY": lambda t: (["ci", "--base", "main"], {"GITHUB_STEP_SUMMARY": t}),
    "schema -o": lambda t: (["schema", "-o", t], {}),
    "validate -o": lambda t: (["validate", "configs/c.yaml", "-o", t], {}),
}
INPUTS = ["configs/c.yaml", "./configs/../configs/c.yaml", "link.yaml", "configs/other.yml",
          "migrations/2025-11-11_v11.yaml", "pyproject.toml", "migrations/new.json"]


@pytest.mark.parametrize("target", INPUTS)
@pytest.mark.parametrize("report", list(REPORTS))
def test_a_report_never_replaces_an_input(gate_repo, monkeypatch, report, target):
    """`ci --sarif configs/c.yaml` used to replace the watched config by the SARIF log, exit 0."""
    args, env = REPORTS[report](target)
    monkeypatch.chdir(gate_repo)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = {p: p.read_bytes() for p in gate_repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "a report never replaces an input" in result.output
    after = {p: p.read_bytes() for p in gate_repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before


# ------------------------------------------------------------------------ strict diff JSON
_values = st.sampled_from([".nan", ".inf", "-.inf", "2001-12-14", "2001-12-14T21:59:43Z", "!!set {a, b}",
                           "!!str 128", "!!timestamp 2002-01-01", "!!omap [a: 1]", "{1: a, true: b, ~: c}",
                           "[.nan, 2001-12-14]", "1e400", "{2001-12-14: x}"])


@settings(max_examples=40, deadline=None)
@given(values=st.lists(_values, min_size=1, max_size=3))
def test_diff_json_is_strict_json_for_every_value_yaml_builds(values):
    """`diff --format json` raised TypeError on a date, a set or a tagged string and wrote the
    invalid token NaN for .nan; every value now has a JSON spelling."""
    from ahsd_config.api.diff import DiffResult, KeyDiff
    from ahsd_config.input.loader import load_text
    from ahsd_config.render.migrate import json_text

    data = load_text("".join(f"k{i}: {v}\n" for i, v in enumerate(values))).plain()
    result = DiffResult("head", "x.yaml", [KeyDiff(k, "changed", v, {"in": [v]}) for k, v in data.items()])
    json.loads(json_text(result), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


def test_a_tagged_string_is_the_string():
    from ahsd_config.input.loader import load_text

    assert load_text("x: !!str 128\n").plain() == {"x": "128"}
    assert load_text("x: !!set {a}\n").plain() == {"x": {"a"}}
    assert load_text("x: 2001-12-14\n").plain() == {"x": datetime.date(2001, 12, 14)}


# ---------------------------------------------------------------------------------- names
@pytest.mark.parametrize("command", [["migrate", "c.yaml"], ["stamp", "c.yaml", "head"], ["validate", "c.yaml"]])
@pytest.mark.parametrize("link", ["dangling", "dangling-folder", "loop"])
def test_a_broken_symlink_config_is_named_as_one_and_no_lock_is_made(tmp_path, monkeypatch, command, link):
    monkeypatch.chdir(tmp_path)
    target = {"dangling": "gone.yaml", "dangling-folder": "nodir/gone.yaml", "loop": "c.yaml"}[link]
    os.symlink(target, tmp_path / "c.yaml")
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines()
             if not line.endswith("(1 unreadable)") and not line.startswith("note: ")]
    assert lines[0].startswith("c.yaml:1:1: error:")  # the config, never c.yaml.lock or nodir/gone.yaml.lock
    assert ("loops" if link == "loop" else f"a symbolic link to {target}, which does not exist") in lines[0] \
        or (command[0] == "validate" and link == "loop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.parametrize("args", [["validate", "c.yaml", "-o"], ["schema", "-o"]])
def test_an_output_under_a_file_names_the_file_in_the_way(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_bytes(CONFIG.read_bytes())
    (tmp_path / "afile").write_text("x\n")
    result = runner.invoke(app, [*args, "afile/sub/r.json"])
    assert result.exit_code == 2
    assert result.output.startswith(("afile:1:1: error: is a file, not a folder",
                                     "afile/sub/r.json:1:1: error: cannot write afile/sub/r.json: afile is a file, not a folder"))
    assert "File exists" not in result.output


@pytest.mark.parametrize("written", ["1", "0x1", "true", "~", "1.5"])
def test_a_duplicate_non_name_key_is_named_as_a_mapping_key(written):
    from ahsd_config.api.validate import validate_document
    from ahsd_config.input.loader import load_text

    report = validate_document(load_text(f"priority_net:\n  {written}: a\n  {written}: b\n"))
    dup = [f for f in report.findings if f.code == "AHSD002"]
    assert [(f.key, f.line) for f in dup] == [(f"priority_net.{written}", 3)]
    assert dup[0].message.startswith(f"priority_net.{written} is given twice")


def test_a_lone_surrogate_in_an_override_is_one_line(tmp_path):
    """`--set` (ahsd-train's, through `ahsd_config.api.load_config`) with undecodable argv bytes in
    the value or the key: a UsageError naming it, which every CLI prints as one line."""
    from ahsd_config.api.config import load_config
    from ahsd_config.errors import UsageError
    from ahsd_config.cli.shell import safe_text

    for item in [os.fsdecode(b"priority_net.batch_size=\xff"), os.fsdecode(b"priority_net.batch\xff=1"),
                 os.fsdecode(b"\xed\xa0\x80=1")]:
        with pytest.raises(UsageError) as refused:
            load_config(CONFIG, [item])
        assert len(safe_text(refused.value.render()).splitlines()) == 1
        safe_text(refused.value.render()).encode("utf-8")


# ------------------------------------------------- revision --from: both writes or neither
@pytest.mark.parametrize("fault", ["read-only config", "config is a directory link", "stamp fails (ENOSPC)"])
def test_revision_writes_the_revision_and_the_stamp_or_neither(tmp_path, monkeypatch, fault):
    """`revision --from FILE` wrote the revision file, then failed to stamp a read-only FILE: exit
    2 with the chain changed. Now FILE is checked first, and the revision and the stamp are one
    file set: a stamp that fails anyway (a full disk while staging it) writes neither."""
    import errno

    from ahsd_config.input import files

    tmp = _project(tmp_path)
    monkeypatch.chdir(tmp)
    cfg = tmp / "configs" / "c.yaml"
    cfg.write_text(cfg.read_text().replace("  batch_size: 128", "  batch_size: 96", 1))
    if fault == "read-only config":
        cfg.chmod(0o444)
    elif fault == "config is a directory link":
        (tmp / "d").mkdir()
        os.symlink(tmp / "d", tmp / "configs" / "d.yaml")
        cfg = tmp / "configs" / "d.yaml"
    else:
        real_stage = files._stage

        def full(folder, name, payload, mode):
            if name == cfg.name:
                raise OSError(errno.ENOSPC, "No space left on device (injected)", str(cfg))
            return real_stage(folder, name, payload, mode)
        monkeypatch.setattr(files, "_stage", full)
    chain = {p.name: p.read_bytes() for p in (tmp / "migrations").iterdir()}
    before = cfg.read_bytes() if cfg.is_file() else None
    result = runner.invoke(app, ["revision", "-m", "t", "--from", str(cfg.relative_to(tmp)), "--id", "vz"])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert {p.name: p.read_bytes() for p in (tmp / "migrations").iterdir()} == chain
    assert (cfg.read_bytes() if cfg.is_file() else None) == before


# ------------------------------------------------------------ control characters never reach a terminal
UNSAFE = [0x1b, 0x07, 0x08, 0x0d, 0x9b, 0x85, 0x00, 0x7f, 0x202e, 0x2066]  # C0, DEL, C1, bidi


def _unsafe(c: str) -> bool:
    return ord(c) < 0x20 and c not in "\n\t" or 0x7f <= ord(c) <= 0x9f or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(char=st.sampled_from(UNSAFE), where=st.sampled_from(["key", "value", "stamp"]),
       command=st.sampled_from([["validate", "c.yaml"], ["validate", "c.yaml", "-f", "github"], ["current", "c.yaml"],
                                ["diff", "head", "c.yaml", "--format", "markdown"], ["diff", "head", "c.yaml"],
                                ["validate", "c.yaml", "-f", "json"], ["diff", "head", "c.yaml", "--format", "json"]]))
def test_control_characters_in_a_config_are_escaped_in_every_output(tmp_path_factory, monkeypatch, char, where, command):
    """A quoted `"\\e[2J"` in a key, a value or the stamp reached the terminal raw (it can clear or
    retitle it); every printed line now goes through `safe_text`. Its escape was `\\x85`, which made
    the JSON and SARIF reports invalid JSON for a key holding a C1 control (hostile pass, issue 9):
    now `\\u0085`, so a JSON report reads back with the very character. Bidi overrides
    (U+202E, U+2066: they reorder what a terminal shows) are escaped the same way."""
    tmp = tmp_path_factory.mktemp("esc")
    monkeypatch.chdir(tmp)
    esc = f"\\u{char:04x}"
    text = CONFIG.read_text()
    if where == "key":
        text = text.replace("  batch_size: 128", f'  batch_size: 128\n  "k{esc}[2J": 1', 1)
    elif where == "value":
        text = text.replace('experiment_name: "AHSD_Phase2_PriorityNet"', f'experiment_name: "a{esc}]0;x"', 1)
    else:
        text = text.replace("revision: v261130", f'revision: "v{esc}1"', 1)
    (tmp / "c.yaml").write_text(text)
    result = CliRunner().invoke(app, command)
    assert result.exit_code in (0, 1, 2)
    printed = result.output
    assert not any(_unsafe(c) for c in printed), repr(printed[:200])
    if {"json", "sarif"} & set(command) and result.exit_code != 2:
        report = json.loads(result.stdout)
        if where == "key" and command[:1] == ["validate"] and "json" in command:
            assert any(chr(char) in f["message"] for f in report["files"][0]["findings"])


HOSTILE_NAME = "a\nb\x1b[2J\x07\x9b\r.yaml"  # a newline, an escape sequence, a bell, a C1 control, a CR


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if ord(c) < 0x20 and c not in "\n\t" or 0x7f <= ord(c) <= 0x9f]


@pytest.mark.parametrize("command", [
    ["validate", "{missing}"], ["validate", "{bad}"], ["validate", "{good}"], ["validate", "{good}", "-f", "github"],
    ["current", "{missing}"], ["migrate", "{bad}"], ["stamp", "{missing}", "head"], ["diff", "head", "{bad}"],
    ["revision", "-m", "t", "--from", "{missing}"], ["--verbose", "heads"], ["schema", "-o", "{missing}/x.json"],
    ["schema", "-o", "{missing}", "--check"], ["explain", "{missing}"]])
def test_a_file_name_with_a_newline_or_control_characters_keeps_every_record_one_line(tmp_path, command):
    """A file named `$'a\\nb\\e[2J.yaml'`: validate's read error reached stderr raw (the escape
    sequence and all) and split over two lines, as did a text finding's `path:line:col`. Every
    one-line record (an error, a note, a finding) now writes a newline as `\\n` and control
    characters as escapes."""
    tmp = _project(tmp_path) / "d"
    tmp.mkdir()
    (tmp.parent / "configs" / "c.yaml").rename(tmp / f"good{HOSTILE_NAME}")
    (tmp / f"bad{HOSTILE_NAME}").write_text("priority_net: [unclosed\n")
    names = {"missing": f"gone{HOSTILE_NAME}", "bad": f"bad{HOSTILE_NAME}", "good": f"good{HOSTILE_NAME}"}
    proc = _run(tmp, *[arg.format(**names) for arg in command])
    assert "Traceback" not in proc.stderr and proc.returncode in (0, 1, 2), proc.stderr
    assert not _raw_controls(proc.stdout + proc.stderr), repr((proc.stdout + proc.stderr)[:300])
    if proc.returncode == 2:
        assert len(proc.stderr.splitlines()) == 1, proc.stderr
    if command[:2] == ["validate", "{good}"]:
        lines = proc.stdout.splitlines()
        assert lines and all(line.startswith(("good", "::", "    hint:")) for line in lines[:-1]), lines[:3]


@pytest.mark.parametrize("setting", ['migrations = "../.."', 'migrations = "/etc"', 'config_globs = ["/**/*.yaml"]',
                                     'config_globs = ["../**"]', 'migrations = "a\\u0000b"', 'default_config = "~/x.yaml"'])
def test_tool_ahsd_paths_stay_inside_the_project(tmp_path, monkeypatch, setting):
    """`migrations = "../.."` made check-migrations walk the disk; `config_globs = ["/**"]` made
    validate read every file of it; a NUL crashed `schema`. Each is one line naming the setting."""
    (tmp_path / "pyproject.toml").write_text(f"[tool.ahsd]\n{setting}\n")
    monkeypatch.chdir(tmp_path)
    for command in (["heads"], ["validate"], ["schema"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "must be a path inside the project" in result.output
        assert len(result.output.strip().splitlines()) == 1


# ------------------------------------------------------------------ signals end ahsd-config cleanly
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_migrate_holds_the_lock_leaves_no_lock_and_the_file_whole(tmp_path, sig):
    """SIGTERM's default action killed `migrate` while it held FILE.lock: the lock file stayed beside
    the config (to be committed by mistake) and nothing was said. Both signals now unwind (finally
    blocks remove the lock and any staged temp file) and end with one line, exit 130."""
    from ahsd_config.api import migrations as C
    from ahsd_config.cli.app import INTERRUPTED

    tmp = _project(tmp_path)
    old = C.show_text(C.load_chain().order[0])  # the oldest state: migrate has the whole chain to do
    items = "".join(f"  - metric_{i}\n" for i in range(20_000))  # ~1 s of work on a quiet box
    big = tmp / "configs" / "big.yaml"
    big.write_text(old.replace("  - gradient_norm\n", "  - gradient_norm\n" + items, 1))
    before = big.read_bytes()
    code = "import sys; from ahsd_config.cli.app import main; sys.argv = ['ahsd-config', *sys.argv[1:]]; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, "migrate", "configs/big.yaml"], cwd=tmp,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (tmp / "configs" / "big.yaml.lock").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "migrate finished before the signal: make the file bigger"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == INTERRUPTED, (proc.returncode, err)
    assert sorted(p.name for p in (tmp / "configs").iterdir()) == ["big.yaml", "c.yaml"]
    assert big.read_bytes() == before  # the write is the last step: a signal during the work changes nothing
