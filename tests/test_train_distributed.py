"""`torchrun --nproc_per_node=2 -m ahsd_train run ...`: DDP on CPU (gloo), rank-0 writes the run."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from test_train_support import CONFIG, PYTHON, ROOT, TINY, set_args


@pytest.mark.slow
def test_two_process_gloo_run_writes_one_run_directory(tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    cmd = [PYTHON, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "ahsd_train", "run", "--config", str(CONFIG), "--device", "cpu", "--out", str(out),
           *set_args(TINY + ("priority_net.epochs=2", "priority_net.batch_size=32"))]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads((out / "run.json").read_text())
    assert info["world_size"] == 2 and info["status"] == "finished"
    # the config says world_size 1 while the launch has 2: warned once (rank 0 only)
    assert proc.stderr.count("priority_net.world_size = 1 but the launch has WORLD_SIZE = 2") == 1
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "step"]
    # 72 training scenarios, 16 per replica per step (32 global) -> 3 steps per epoch, 2 epochs
    assert [r["step"] for r in steps] == [1, 2, 3, 4, 5, 6]
    report = json.loads((out / "report.json").read_text())
    assert len(report["checklist"]) == 8 and "kendall_tau" in report["metrics"]


def _steps_logged(run_dir) -> int:
    try:
        return (run_dir / "metrics.jsonl").read_text().count('"kind": "step"')
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_sigterm_to_torchrun_stops_every_replica_at_one_step_and_keeps_the_checkpoint(tmp_path):
    """A scheduler's SIGTERM reaches torchrun, which forwards it to both workers. They may see it at
    different steps; the stop flag is all-reduced at each step boundary, so both leave the loop at
    the same step (no replica left waiting in an all-reduce) and rank 0 records "interrupted"."""
    import signal
    import time

    out = tmp_path / "ddp"
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    cmd = [PYTHON, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "ahsd_train", "run", "--config", str(CONFIG), "--device", "cpu", "--out", str(out),
           "--checkpoint-every-steps", "2",
           *set_args(TINY + ("priority_net.epochs=200", "priority_net.batch_size=32",
                             "output.generate_plots=false"))]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _steps_logged(out) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be signalled"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=90)  # a replica stuck in an all-reduce would hang here
    assert proc.returncode != 0, err[-3000:]
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "interrupted" and info["world_size"] == 2, info
    assert info["checkpoint_step"] >= 2, info
    assert (out / "checkpoints" / "last.pt").is_file()
    # torchrun itself ends with its SignalException traceback (the launcher's, not ours); no frame of
    # the product's code may appear in any traceback, and each worker said what it kept
    assert f'File "{ROOT / "ahsd_train"}' not in err, err[-3000:]
    assert f"the last checkpoint (step {info['checkpoint_step']}) is kept" in err, err[-3000:]
