"""The verifying hostile pass over `ahsd-train` on merged main (issue 9): what it still broke.

`compare` without --json died on every run that reached training: its observer was not the loop's
`Observer`, so `obs.info` (then `obs.progress`, then start's fourth argument) did not exist."""

from __future__ import annotations

import ast
import os
import inspect
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahsd_train import cli
from ahsd_train.run.observer import Observer

ROOT = Path(__file__).resolve().parents[1]


def observer_uses() -> set[str]:
    """Every attribute the training loop reads on its observer (`self.obs.X`, `observer.X`)."""
    names = set()
    for path in (ROOT / "ahsd_train/run").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                base = node.value
                if (isinstance(base, ast.Name) and base.id in ("observer", "obs")) or (
                        isinstance(base, ast.Attribute) and base.attr == "obs"):
                    names.add(node.attr)
    return names


def cli_observers() -> list[type]:
    return [v for k, v in vars(cli).items() if inspect.isclass(v) and k.endswith("Observer") and v is not Observer]


@pytest.mark.parametrize("cls", cli_observers(), ids=lambda c: c.__name__)
def test_every_cli_observer_has_every_call_the_loop_makes(cls):
    uses = observer_uses()
    assert {"info", "warn", "start", "step", "epoch", "close", "progress"} <= uses  # the scan sees the loop
    assert issubclass(cls, Observer)
    for name in uses:
        ours, base = getattr(cls, name), getattr(Observer, name)
        if callable(base):  # same parameters as the loop's Observer: a call that binds there binds here
            assert list(inspect.signature(ours).parameters) == list(inspect.signature(base).parameters), name


def test_compare_without_json_trains_both_sides_and_prints_epoch_lines(tmp_path):
    small = ["--set", "priority_net.hidden_dims=[16, 8]", "--set", "priority_net.use_strain=false",
             "--set", "data.synthetic.test_scenarios=16", "--set", "output.generate_plots=false"]
    result = CliRunner().invoke(cli.app, ["compare", "v15d", "head", "--scenarios", "8", "--epochs", "1", *small,
                                          "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert "run-A epoch 1: train loss" in result.stderr and "run-B epoch 1: train loss" in result.stderr
    assert (tmp_path / "c" / "compare.json").is_file()


# ---------------------------------------------------------------- a newline in a path stays one line
NL = "a\nb"


def newline_cases(tmp: Path):
    (tmp / NL).write_text("x")  # a file in the way of a folder, with a newline in its name
    (tmp / "bad\ncfg.yaml").write_text("a: [\n")
    return [
        (["run", "--config", str(ROOT / "configs/enhanced_training.yaml"), "--max-steps", "1", "--out", str(tmp / NL / "r")], 2),
        (["run", "--config", str(tmp / "no\nsuch.yaml"), "--max-steps", "1", "--out", str(tmp / "r")], 2),
        (["run", "--config", str(tmp / "bad\ncfg.yaml"), "--max-steps", "1", "--out", str(tmp / "r")], 2),
        (["doctor", str(tmp / "r\nun")], 2),
        (["evaluate", str(tmp / "r\nun")], 2),
        (["data", "generate", "--config", str(ROOT / "configs/enhanced_training.yaml"), "--scenarios", "8",
          "--out", str(tmp / NL)], 2),
    ]


def test_an_error_about_a_path_with_a_newline_is_still_one_line(tmp_path):
    for args, code in newline_cases(tmp_path):
        result = CliRunner().invoke(cli.app, args)
        assert result.exit_code == code, (args, result.stderr, result.exception)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and "\\n" in lines[0], (args, result.stderr)


# ---------------------------------------------------------------- every count option is bounded
def count_options():
    """(command words, option) for every integer option of every ahsd-train command."""
    import typer.main
    from typer.models import OptionInfo

    found = []

    def walk(command, words):
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*words, name])
        if getattr(command, "commands", None) is None and command.callback is not None:
            for p in inspect.signature(command.callback).parameters.values():
                if isinstance(p.default, OptionInfo) and str(p.annotation) in ("int", "Optional[int]"):
                    found.append((words, p.default.param_decls[0]))

    walk(typer.main.get_command(cli.app), [])
    return found


def test_the_scan_finds_the_count_options():
    names = {(" ".join(w), o) for w, o in count_options()}
    assert {("run", "--max-steps"), ("bench", "--batch-size"), ("compare", "--scenarios"),
            ("data generate", "--shard-size")} <= names and len(names) == 11


@pytest.mark.parametrize("value", [str(2**40 + 1), "100000000000000000000000"])
def test_a_count_past_any_machine_is_a_usage_error_not_a_torch_overflow(value, tmp_path):
    # the rest of each command line is valid or fails fast, so only the bound can say exit 2 naming the option
    rest = {"run": ["--config", str(tmp_path / "none.yaml")], "compare": ["a.yaml", "b.yaml"], "bench": [],
            "data generate": ["--out", str(tmp_path / "ds"), "--scenarios", "1"]}
    for words, option in count_options():
        result = CliRunner().invoke(cli.app, [*words, *rest[" ".join(words)], option, value])
        assert result.exit_code == 2 and option in result.stderr, (words, option, result.stderr, result.exception)
        assert "Traceback" not in result.stderr and not (tmp_path / "ds").exists()


# ---------------------------------------------------------------- Ctrl-C, Ctrl-C, Ctrl-C
TINY = ["priority_net.hidden_dims=[16, 8]", "priority_net.use_strain=false", "priority_net.batch_size=16",
        "priority_net.epochs=50", "priority_net.warmup_epochs=1", "data.synthetic.n_scenarios=64",
        "data.synthetic.max_signals=4", "data.synthetic.test_scenarios=32", "output.generate_plots=false"]


def test_signals_in_a_burst_stop_at_once_and_the_stop_is_still_recorded(tmp_path, monkeypatch):
    """Two Ctrl-C mid-step stop at once; a third, fired while run.json is being written as
    "interrupted" (fault injection at that write), must not cut the record short."""
    import json
    import os
    import signal

    from ahsd_train.run import observer, runlog

    def burst(step, loss):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # asks for a stop at the next boundary
            os.kill(os.getpid(), signal.SIGINT)  # stops at once, mid-step
        return loss

    real_write = runlog.write_json

    def write_json(path, data):
        if isinstance(data, dict) and data.get("status") == "interrupted":
            os.kill(os.getpid(), signal.SIGINT)  # a third, while the stop is recorded
        return real_write(path, data)

    monkeypatch.setattr(observer, "hooks_from_env", lambda: observer.TrainHooks(after_loss=burst))
    monkeypatch.setattr(runlog, "write_json", write_json)
    out = tmp_path / "r"
    args = ["run", "--config", str(ROOT / "configs/enhanced_training.yaml"), "--device", "cpu",
            "--checkpoint-every-steps", "1", "--out", str(out), "-q"]
    result = CliRunner().invoke(cli.app, [*args, *[a for kv in TINY for a in ("--set", kv)]])
    assert result.exit_code == 130, (result.stderr, result.exception)
    assert "interrupted at step 2; the last checkpoint (step 2)" in result.stderr, result.stderr
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert (out / "checkpoints" / "last.pt").is_file()


# ---------------------------------------------------------------- data generate: all or nothing
@pytest.mark.parametrize("entry, kind", [("manifest.json", "fifo"), ("manifest.json", "devzero"),
                                         ("manifest.json", "dir"), ("shard-00001.safetensors", "dir"),
                                         ("manifest.json", "readonly")])
def test_data_generate_checks_every_file_it_will_replace_before_writing_the_first(tmp_path, entry, kind):
    import os

    out = tmp_path / "ds"
    out.mkdir()
    path = out / entry
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        path.symlink_to("/dev/zero")
    elif kind == "dir":
        path.mkdir()
    else:
        path.write_text("{}")
        path.chmod(0o444)
    before = sorted(p.name for p in out.iterdir())
    result = CliRunner().invoke(cli.app, ["data", "generate", "--config", str(ROOT / "configs/enhanced_training.yaml"),
                                          "--scenarios", "20", "--shard-size", "10", "--out", str(out), "-q"])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, (result.stderr, result.exception)
    assert sorted(p.name for p in out.iterdir()) == before  # no shard written


@pytest.mark.parametrize("argv", [["run", "--quick", "--out", ""], ["run", "--quick", "--out="],
                                  ["data", "generate", "--scenarios", "4", "--out", ""], ["doctor", ""],
                                  ["compare", "--quick", "--out", ""], ["run", "--quick", "--config", ""]])
def test_an_empty_argument_is_refused_before_anything_runs(tmp_path, argv):
    """Typer reads an empty path as `.`: `run --out ""` trained into the working folder (hostile pass,
    issue 9). Every empty argument is one line, exit 2, and the working folder stays empty."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "ahsd_train", *argv], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "is empty" in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []
