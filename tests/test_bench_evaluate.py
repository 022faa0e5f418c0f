"""The report contract of the benchmark metrics, the fixed test set, and `ahsd-train evaluate`."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from ahsd_train.engine import benchmark as bm
from ahsd_train.run import trainer
from ahsd_train.review.bench import project_config
from ahsd_train.cli import app
from test_train_support import options

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("bench") / "run"
    trainer.run(options(out))
    torch.set_num_threads(before)
    return out


def test_report_metrics_carry_the_benchmark_contract(run_dir):
    m = json.loads((run_dir / "report.json").read_text())["metrics"]
    assert m["n_test_scenarios"] == 256  # data.synthetic.test_scenarios (TINY), not a split fraction
    for key in ("tau_detectable", "snr_baseline_tau_detectable", "pair_brier", "constant_pair_brier",
                "pair_auroc_misordered"):
        assert isinstance(m[key], float), key
    lo, hi = m["gain_vs_snr"]["ci95"]
    assert lo <= m["gain_vs_snr"]["estimate"] <= hi
    assert m["gain_vs_snr"]["estimate"] == pytest.approx(m["tau_detectable"] - m["snr_baseline_tau_detectable"])
    formula = m["gain_vs_effective_snr"]  # the model against the hand-written overlap formula ranker
    assert formula["ci95"][0] <= formula["estimate"] <= formula["ci95"][1]
    both = m["benchmark"]["effective_snr_ranking"]["tau_detectable"]
    assert formula["estimate"] == pytest.approx(both["model"]["estimate"] - m["effective_snr_baseline_tau_detectable"])


def test_test_set_has_its_own_seed_and_does_not_depend_on_the_training_data():
    cfg = project_config()
    a = bm.test_set(cfg, 40)
    more_training = cfg.model_copy(update={"random_seed": 7, "data": cfg.data.model_copy(update={"synthetic": cfg.data.synthetic.model_copy(update={"n_scenarios": 999})})})
    b = bm.test_set(more_training, 40)
    assert torch.equal(a.features, b.features) and torch.equal(a.priority, b.priority)
    from ahsd_train.engine.data import SyntheticScenarioSource

    train = SyntheticScenarioSource(cfg.data, cfg.priority_net, cfg.random_seed).generate(40)
    assert not torch.equal(train.priority[:, :2], a.priority[:, :2])


def test_evaluate_prints_one_row_per_run_and_exit_2_on_a_run_without_report(run_dir, tmp_path):
    result = runner.invoke(app, ["evaluate", str(run_dir), str(run_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("| run | tau, detectable (95 % CI)") and len(lines) == 4
    assert lines[2].startswith(f"| {run_dir.name} | ")
    as_json = runner.invoke(app, ["evaluate", str(run_dir), "--json"])
    assert json.loads(as_json.stdout)[run_dir.name]["n_test_scenarios"] == 256
    missing = runner.invoke(app, ["evaluate", str(tmp_path)])
    assert missing.exit_code == 2 and "no report" in missing.stderr
