"""`ahsd-config` never imports torch: it must start fast enough to run on every editor save."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import sys
from typer.testing import CliRunner
import ahsd_config.cli.app, ahsd_config.api, ahsd_config.api.validate, ahsd_config.api.explain
from ahsd_config.rules import all_rules
from ahsd_config.render import render
all_rules()
result = CliRunner().invoke(ahsd_config.cli.app.app, ["validate", sys.argv[1], "--format", "sarif"])
assert result.exit_code in (0, 1), result.output
result = CliRunner().invoke(ahsd_config.cli.app.app, ["explain", "priority_net.batch_size"])
assert result.exit_code == 0, result.output
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "numpy", "scipy", "ahsd_train"))
print("HEAVY:" + ",".join(heavy))
"""


def test_cli_and_validation_never_import_torch():
    config = REPO / "configs" / "enhanced_training.yaml"
    done = subprocess.run([sys.executable, "-c", PROBE, str(config)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_console_script_validate_never_imports_torch():
    probe = ("import sys, runpy; sys.argv = ['ahsd-config', 'validate', sys.argv[1]]\n"
             "try:\n    runpy.run_module('ahsd_config', run_name='__main__')\n"
             "except SystemExit as exit:\n    code = exit.code\n"
             "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', code)")
    config = REPO / "configs" / "enhanced_training.yaml"
    done = subprocess.run([sys.executable, "-c", probe, str(config)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.stdout.strip().splitlines()[-1] in ("NO-TORCH 0", "NO-TORCH 1"), done.stdout + done.stderr


def test_ahsd_train_run_refuses_an_invalid_config_before_importing_torch(tmp_path):
    """A refusal is the config check alone (~0.5 s), not the config check after torch loaded (~2 s):
    the hostile pass's gate kind runs 1,200 of them, and a user fixing a config runs them in a row."""
    probe = ("import sys; sys.argv = ['ahsd-train', *sys.argv[1:]]\n"
             "from ahsd_train.entry import main\n"
             "try:\n    main()\n"
             "except SystemExit as exit:\n    code = exit.code\n"
             "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', code)")
    config = REPO / "configs" / "enhanced_training.yaml"
    done = subprocess.run([sys.executable, "-c", probe, "run", "--config", str(config), "--set",
                           "priority_net.batch_size=0", "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "NO-TORCH 2", done.stdout + done.stderr
    assert "AHSD903" in done.stderr and not (tmp_path / "r").exists()
