"""Shared helpers of the `ahsd-train` tests (no tests here): tiny configs and run launchers.

TINY shrinks the project config to a metadata-only PriorityNet of widths [32, 16] on 96 synthetic
scenarios of at most 4 signals, so a 3-epoch run takes a few seconds on two CPU cores. It is applied
with `--set`, the way a researcher would, and passes validation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "enhanced_training.yaml"
PYTHON = sys.executable

TINY = (
    "priority_net.hidden_dims=[32, 16]",
    "priority_net.use_strain=false",
    "priority_net.batch_size=16",
    "priority_net.epochs=3",
    "priority_net.warmup_epochs=1",
    "priority_net.learning_rate=1e-3",
    "data.synthetic.n_scenarios=96",
    "data.synthetic.max_signals=4",
    "data.synthetic.test_scenarios=256",
)

# The seed note's pre-fix values (Nov 15 2025), applied to the project config.
PRE_FIX = (
    "priority_net.batch_size=6",
    "priority_net.gradient_clip_norm=2.0",
    "priority_net.uncertainty_weight=0.35",
    "priority_net.calib_max_weight=2.50",
    "priority_net.calib_range_weight=2.00",
    "priority_net.min_variance_penalty_weight=10.0",
)


def set_args(overrides) -> list[str]:
    return [arg for item in overrides for arg in ("--set", item)]


def options(out: Path, *overrides: str, **kwargs):
    from ahsd_train.run.setup import RunOptions

    return RunOptions(config_path=CONFIG, overrides=TINY + overrides, device="cpu", out=out, **kwargs)


def cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m ahsd_train ARGS` in a subprocess (cwd = repo root)."""
    # one OpenMP thread: these models are tiny, and spin-waiting threads crawl on a busy 2-core box
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
                **(env or {})}
    return subprocess.run([PYTHON, "-m", "ahsd_train", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
