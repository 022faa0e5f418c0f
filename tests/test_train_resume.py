"""A run killed with SIGKILL after a checkpoint and resumed ends exactly like an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from test_train_support import CONFIG, PYTHON, ROOT, TINY, cli, set_args

ARGS = ["run", "--config", str(CONFIG), "--device", "cpu", "--checkpoint-every-steps", "2",
        *set_args(TINY + ("priority_net.epochs=6",))]


def step_losses(run_dir: Path) -> list[tuple[int, float]]:
    return [(r["step"], r["loss"]) for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines())
            if r["kind"] == "step"]


def epoch_losses(run_dir: Path) -> list[tuple[float, float]]:
    return [(r["train_loss"], r["val_loss"]) for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines())
            if r["kind"] == "epoch"]


def steps_logged(run_dir: Path) -> int:
    try:
        return (run_dir / "metrics.jsonl").read_text().count('"kind": "step"')
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_sigkill_then_resume_ends_with_the_same_metrics(tmp_path):
    ref, killed = tmp_path / "ref", tmp_path / "killed"
    done = cli(*ARGS, "--out", str(ref))
    assert done.returncode == 0, done.stderr

    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}  # as cli() runs the reference
    proc = subprocess.Popen([PYTHON, "-m", "ahsd_train", *ARGS, "--out", str(killed)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    # after the checkpoint at step 4 (every 2 steps) and a little more work
    while steps_logged(killed) < 7 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "report.json").exists(), "the run finished before the kill; make it longer"
    assert (killed / "checkpoints" / "last.pt").exists()

    resumed = cli(*ARGS, "--out", str(killed), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    a = json.loads((ref / "report.json").read_text())
    b = json.loads((killed / "report.json").read_text())
    assert b["metrics"] == a["metrics"]
    assert [i["value"] for i in b["checklist"]] == [i["value"] for i in a["checklist"]]
    assert step_losses(killed) == step_losses(ref)
    assert epoch_losses(killed) == epoch_losses(ref)  # the interrupted epoch's mean included
