"""The loop the product exists for, end to end in a temporary git repository:

hand edit -> `validate` finds it -> `ahsd-train run` refuses -> `--force` run shows the health
failures -> `doctor --propose-migration` -> the draft completed with a rationale and accepted ->
`ahsd-config ci --base main` passes -> the fixed config trains with the checklist green.

The repository holds the project's real chain and config (stamped at head); only the run size
comes from `--set` (a small MLP, 240 scenarios, 64 strain samples, 3 epochs), never a key the story
is about. In-process CLIs (CliRunner), cwd = the repository.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from ahsd_config.api import load_config
from ahsd_config.cli.app import app as config_app
from ahsd_train.cli import app as train_app
from ahsd_train.review.doctor import num
from ahsd_config.rules._examples import apply_fragment
from test_train_support import PRE_FIX, ROOT, set_args
from transient import TRANSIENT  # noqa: E402

SIZE = ("priority_net.hidden_dims=[32, 16]", "data.synthetic.n_scenarios=240", "data.synthetic.max_signals=4",
        "data.synthetic.strain_samples=64")
CONFIG = "configs/enhanced_training.yaml"
runner = CliRunner()


def git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return out.stdout


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "repo"
    (root / "configs").mkdir(parents=True)
    shutil.copytree(ROOT / "migrations", root / "migrations", ignore=TRANSIENT)
    shutil.copy(ROOT / CONFIG, root / CONFIG)
    (root / "pyproject.toml").write_text('[tool.ahsd]\nmigrations = "migrations"\nconfig_globs = ["configs/**/*.yaml"]\n')
    git(root, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Loop Test"), ("user.email", "loop@example.invalid"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "fix")
    monkeypatch.chdir(root)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield root
    torch.set_num_threads(before)


def train(*args: str):
    return runner.invoke(train_app, ["run", "--config", CONFIG, "--epochs", "3", *set_args(SIZE), *args])


def report(run_dir: Path) -> dict:
    return {i["name"]: i for i in json.loads((run_dir / "report.json").read_text())["checklist"]}


def test_from_a_hand_edit_to_a_recorded_fix_that_trains_green(repo: Path):
    config = repo / CONFIG
    original = config.read_text()
    head = load_config(config).config.priority_net  # the values the story starts from
    # 1. the hand edit: the seed note's pre-fix values (batch 6 under BatchNorm, clip 2.0, the
    #    Nov 13/15 penalty and uncertainty raises), typed over the head's
    edited = apply_fragment(original, "priority_net:\n" + "".join(f"  {k.split('.')[1]}: {v}\n" for k, v in (
        item.split("=") for item in PRE_FIX)))
    config.write_text(edited)
    line = 1 + edited[:edited.index("  batch_size: 6")].count("\n")
    # 2. validate finds it, at its line
    found = runner.invoke(config_app, ["validate", CONFIG])
    assert found.exit_code == 1
    assert f"{CONFIG}:{line}:3 AHSD101 error priority_net.batch_size = 6 is below 8" in found.stdout
    # 3. the trainer refuses it before anything is built
    refused = train("--out", "runs/refused")
    assert refused.exit_code == 2 and "AHSD101" in refused.stderr and not (repo / "runs" / "refused").exists()
    # 4. forced, it runs and the checklist shows the gradients the seed note saw
    forced = train("--out", "runs/forced", "--force")
    assert forced.exit_code == 0, forced.stderr
    items = report(repo / "runs" / "forced")
    assert not items["grad_norm_below_clip"]["passed"] and not items["clipped_fraction"]["passed"]
    # 5. doctor proposes the seed note's escalation as a draft in the run directory, on the head
    doctor = runner.invoke(train_app, ["doctor", "runs/forced", "--propose-migration"])
    assert doctor.exit_code == 1, doctor.stderr
    lr = head.learning_rate
    assert f"1. halve the learning rate: priority_net.learning_rate {num(lr)} -> {num(lr / 2)}" in doctor.stdout
    [draft] = (repo / "runs" / "forced").glob("*-doctor-*.yaml")
    assert runner.invoke(config_app, ["check-migrations"]).exit_code == 0  # unaccepted: not judged
    # 6. a person accepts it: the reasons written, the file moved into the chain; the hand edit undone
    reason = "The forced batch-6 run kept its gradient above the clip; the seed note escalation, in order."
    (repo / "migrations" / draft.name).write_text(draft.read_text().replace("TODO: explain why", reason))
    draft.unlink()
    config.write_text(original)
    migrated = runner.invoke(config_app, ["migrate", CONFIG, "--to", "head"])
    assert migrated.exit_code == 0, migrated.stdout + (migrated.stderr or "")
    git(repo, "add", "-A", "configs", "migrations")
    git(repo, "commit", "-q", "-m", "fix: the seed note's escalation, recorded")
    # 7. the pull-request gate passes
    gate = runner.invoke(config_app, ["ci", "--base", "main"])
    assert gate.exit_code == 0, gate.stdout + (gate.stderr or "")
    # 8. the fixed config trains with the checklist green
    fixed = train("--out", "runs/fixed")
    assert fixed.exit_code == 0, fixed.stderr
    items = report(repo / "runs" / "fixed")
    assert [name for name, i in items.items() if not i["passed"]] == []
    assert "normalize_loss_by_components: true" in config.read_text()
