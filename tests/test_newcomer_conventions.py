"""Issue 13 item 4: the conventions people expect from git, ruff and pre-commit — --version, shell
completion, plain metavars and a description for every option, "install ahsd[train]" instead of
a traceback, doctor's exit code, and the validate benchmark without the corpus."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ahsd_config.cli.app import app as config_app
from ahsd_train.cli import app as train_app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
APPS = {"ahsd-config": config_app, "ahsd-train": train_app}


@pytest.mark.parametrize("name", APPS)
def test_version(name):
    res = runner.invoke(APPS[name], ["--version"])
    assert res.exit_code == 0 and res.stdout == f"{name} 0.1.0\n"


@pytest.mark.parametrize("name,words,expected", [
    ("ahsd-config", "ahsd-config hi", "history\n"),
    ("ahsd-train", "ahsd-train run --qu", "--quick\n--quiet\n"),
])
def test_shell_completion(name, words, expected):
    var = f"_{name.replace('-', '_').upper()}_COMPLETE"
    env = {var: "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    res = runner.invoke(APPS[name], [], env=env, prog_name=name)
    assert res.exit_code == 0 and res.stdout == expected
    shown = runner.invoke(APPS[name], ["--show-completion", "bash"], prog_name=name)
    assert shown.exit_code == 0 and f"complete -o default -F _{name.replace('-', '_')}_completion {name}" in shown.stdout


def _commands(name):
    group = typer.main.get_command(APPS[name])
    return sorted(group.commands.items())


@pytest.mark.parametrize("name", APPS)
def test_help_has_plain_metavars_and_describes_every_option(name):
    """The class: every command of both tools, every parameter (new commands are checked too)."""
    for cmd_name, cmd in _commands(name):
        res = runner.invoke(APPS[name], [cmd_name, "--help"], prog_name=name)
        assert res.exit_code == 0, (cmd_name, res.output)
        placeholders = re.findall(r"\{[\w.]+\}|<[\w\[\], |]+>", res.stdout)  # {file}, <list[str]>, <int range>
        assert placeholders == [], (cmd_name, placeholders)
        usage = res.stdout.split("\n\n")[0]  # e.g. "Usage: ahsd-config validate [OPTIONS] [PATH...]"
        depth = 0
        for ch in usage:  # brackets nest and close: "[PATH]...]" once slipped through
            depth += {"[": 1, "]": -1}.get(ch, 0)
            assert depth >= 0, (cmd_name, usage)
        assert depth == 0, (cmd_name, usage)
        for param in cmd.params:
            assert getattr(param, "help", None), f"{name} {cmd_name}: {param.name} has no description"


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_on_conflict_and_squash_message_are_explained():
    text = _flat(runner.invoke(config_app, ["migrate", "--help"]).stdout)
    assert "--on-conflict keep|take When FILE's value differs from what a step expects (a hand edit): " \
           "keep FILE's value, or take the revision's new value." in text
    squash = _flat(runner.invoke(config_app, ["squash", "--help"]).stdout)
    assert "squash [OPTIONS] START END" in squash
    assert "-m, --message TITLE Title of the squashed revision" in squash


BLOCK_TRAIN_EXTRA = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('numpy', 'torch'):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
sys.meta_path.insert(0, Block())
sys.argv = ['ahsd-train'] + sys.argv[1:]
from ahsd_train.cli import main
main()
"""


def test_without_the_train_extra_run_says_what_to_install(tmp_path):
    """A real process where numpy and torch cannot be imported (as after `pip install .`)."""
    proc = subprocess.run([sys.executable, "-c", BLOCK_TRAIN_EXTRA, "run", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.endswith("error: ahsd-train needs the training extra (numpy is not installed): "
                                "pip install 'ahsd[train]'\n")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("passed,code", [([True, True], 0), ([True, False], 1)])
def test_doctor_exit_code_follows_the_checklist(monkeypatch, tmp_path, passed, code):
    from ahsd_train.review import doctor

    rows = [{"name": f"check_{i}", "passed": p, "value": 1.0, "threshold": 2.0, "reason": "r"}
            for i, p in enumerate(passed)]
    fake = doctor.Diagnosis(tmp_path, {"checklist": rows, "metrics": {}, "stop_reason": None}, None, "finished")
    monkeypatch.setattr(doctor, "diagnose", lambda run_dir: fake)
    res = runner.invoke(train_app, ["doctor", str(tmp_path)])
    assert res.exit_code == code, res.output
    assert ("FAIL" in res.stdout) == (code == 1)


def test_validate_benchmark_defaults_to_the_shipped_config_without_the_corpus(monkeypatch, capsys, tmp_path):
    spec = importlib.util.spec_from_file_location("validate_speed", ROOT / "benchmarks" / "validate_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(bench, "NEWEST", tmp_path / "absent.yaml")
    assert bench.default_file() == ROOT / "configs" / "enhanced_training.yaml"
    assert "corpus not found" in capsys.readouterr().err


def test_no_lock_journal_or_temp_file_is_tracked():
    """A `git add -A` while a command held `migrations/.ahsd.lock` committed the lock into the chain
    folder (twice); .gitignore now names what commands hold or stage for a moment."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True, text=True, check=True).stdout
    transient = [p for p in tracked.splitlines()
                 if p.endswith(".lock") or p.endswith(".ahsd-journal.json") or (Path(p).name.startswith(".") and p.endswith(".tmp"))]
    assert transient == []
    ignored = subprocess.run(["git", "-C", str(root), "check-ignore", "migrations/.ahsd.lock", "configs/x.yaml.lock",
                              "migrations/.ahsd-journal.json", "configs/.x.yaml.1.ab.tmp"], capture_output=True, text=True)
    assert len(ignored.stdout.splitlines()) == 4
