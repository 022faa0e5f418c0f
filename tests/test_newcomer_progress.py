"""Issue 13 item 2: progress bars on a terminal, silence in a pipe or with --quiet.

Real processes: one on a pseudo-terminal (python's `pty`), one piped, the same tiny run."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from ahsd_train.run.progress import NO_PROGRESS, RichProgress, make_progress, wants_bars

ROOT = Path(__file__).resolve().parent.parent
TINY_RUN = ["run", "--quick", "--max-steps", "3", "--set", "data.synthetic.n_scenarios=96",
            "--set", "priority_net.batch_size=32", "--set", "data.synthetic.test_scenarios=64"]
BAR = "━"  # rich's bar glyph


def _env() -> dict[str, str]:
    return {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}


def _argv(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "ahsd_train", *args]


def read_terminal(args: list[str]) -> tuple[int, str]:
    """Run on a pseudo-terminal; everything it drew, escapes included."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(_argv(args), stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
                            env=_env(), cwd=ROOT)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


def test_bars_on_a_terminal_and_none_in_a_pipe(tmp_path):
    # both at once (two cores): the piped one in the background
    piped = subprocess.Popen(_argv([*TINY_RUN, "--out", str(tmp_path / "pipe")]), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    code, shown = read_terminal([*TINY_RUN, "--out", str(tmp_path / "tty")])
    assert code == 0, shown
    for phase in ("preparing data and model", "epoch 1", "validation", "test"):
        assert re.search(rf" {phase} +(\x1b\[[0-9;]*m)?{BAR}", shown), phase  # the label, then its bar
    _, err = piped.communicate(timeout=300)  # stderr: the bars' stream (stdout holds the tables)
    assert piped.returncode == 0, err
    assert BAR not in err and "\x1b[" not in err and "preparing data and model" not in err
    assert "epoch 1: train loss " in err and "epoch 1: train loss " in shown  # the lines stay


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_and_dumb_terminals_get_no_bars(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    assert wants_bars(False, Terminal()) and not wants_bars(True, Terminal())
    assert not wants_bars(False, io.StringIO())
    assert make_progress(True, Terminal()) is NO_PROGRESS
    monkeypatch.setenv("TERM", "dumb")
    assert make_progress(False, Terminal()) is NO_PROGRESS


def test_updates_reach_rich_at_most_four_times_a_second(monkeypatch):
    progress = RichProgress(Terminal())
    seen = []
    monkeypatch.setattr(progress._rich, "update", lambda task_id, **kw: seen.append(kw["completed"]))
    clock = iter([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    monkeypatch.setattr("ahsd_train.run.progress.time.monotonic", lambda: next(clock))
    task = progress.open("epoch 1", total=10)
    for i in range(10):
        task.update(completed=i + 1)
    assert seen == [1, 4, 7, 10]  # every >= 0.25 s of (fake) time, the latest count each time
    progress.close()


class Recorder(NO_PROGRESS.__class__):
    """A Progress that keeps what the library told it."""

    enabled = True

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def open(self, description, total=None, completed=0, **fields):
        recorder = self

        class _Task:
            def update(self, completed=None, advance=0, **fields):
                recorder.events.append(("update", completed, advance, fields.get("description")))

            def reset(self, total, completed=0, **fields): ...

            def flush(self): ...

            def close(self):
                recorder.events.append(("close", description))

        self.events.append(("open", description, total))
        return _Task()


def test_benchmark_reports_progress_between_timed_regions():
    from ahsd_train.review.bench import run_benchmark

    rec = Recorder()
    run_benchmark(steps=1, repeats=2, naive_steps=0, progress=rec)
    assert rec.events[0] == ("open", "benchmark: data and warm-up", 4)
    assert [e[0] for e in rec.events] == ["open", "update", "update", "update", "update", "close"]
    assert rec.events[-2][3] == "benchmark: inference"
