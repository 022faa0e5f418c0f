"""Health checks: each unit on its own, the stop decision, and the checklist from records."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ahsd_config.schema import HealthConfig
from ahsd_train.run import health as hm
from ahsd_train.run.records import from_json


def test_find_nonfinite_names_the_first_bad_entry_in_order():
    named = {"loss component mse": torch.tensor(1.0), "loss component ranking": torch.tensor(float("nan")),
             "output priority": torch.tensor([1.0, float("inf")])}
    assert hm.find_nonfinite(named) == "loss component ranking"
    assert hm.find_nonfinite({"a": torch.ones(3), "b": 2.0}) is None
    assert hm.find_nonfinite({"grad": float("inf")}) == "grad"


def test_nonfinite_gradient_names_the_parameter():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model(torch.ones(1, 2)).sum().backward()
    assert hm.nonfinite_gradient(model) is None
    model[1].weight.grad[0, 0] = float("nan")
    assert hm.nonfinite_gradient(model) == "gradient of 1.weight"


def test_spike_is_relative_to_the_running_median_and_needs_history():
    assert not hm.is_spike(100.0, [1.0] * 4, 3.0)  # too little history
    assert hm.is_spike(3.5, [1.0, 1.0, 1.2, 0.9, 1.0], 3.0)
    assert not hm.is_spike(2.9, [1.0, 1.0, 1.2, 0.9, 1.0], 3.0)


def test_batchnorm_in_eval_lists_layers_not_training():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    model.train()
    assert hm.batchnorm_in_eval(model) == []
    model[1].eval()
    assert hm.batchnorm_in_eval(model) == ["1"]


def test_grad_norm_checks_use_clip_and_typical_band():
    assert hm.check_grad_norm_below_clip([1.0, 2.0], 5.0).passed
    bad = hm.check_grad_norm_below_clip([28.9, 28.9], 5.0, "epoch 3 (3 logged)")
    assert not bad.passed and bad.value == 28.9 and bad.threshold == 5.0
    assert bad.reason.startswith("epoch 3 (3 logged) mean gradient norm (before clipping, at unit loss scale) 28.9 >=")
    assert hm.check_grad_norm_typical([1.0, 2.0, 3.0], 3.0).passed
    assert not hm.check_grad_norm_typical([4.0, 5.0, 6.0], 3.0).passed
    frac = hm.check_clipped_fraction([True, True, False, False], 0.4)
    assert not frac.passed and frac.value == 0.5


def test_components_balanced_flags_the_dominating_penalty_by_name():
    shares = hm.component_shares({"ranking": 0.2, "mse": 0.05, "min_variance": 0.7, "calib_max": 0.05})
    verdict = hm.check_components_balanced(shares, 0.5)
    assert not verdict.passed
    assert "'min_variance'" in verdict.reason and verdict.value == pytest.approx(0.7)
    # the objective itself may dominate: only penalties are judged
    ok = hm.check_components_balanced(hm.component_shares({"ranking": 0.9, "calib_max": 0.1}), 0.5)
    assert ok.passed


def test_loss_decreasing_needs_a_lower_last_epoch_and_no_spikes():
    steps = [1.0] * 200
    assert hm.check_loss_decreasing([1.0, 0.8], steps, 0, 0.01).passed
    assert not hm.check_loss_decreasing([1.0, 1.1], steps, 0, 0.01).passed
    assert hm.check_loss_decreasing([1.0, 0.8], steps, 2, 0.01).passed  # 2 spikes in 200 steps: 1 %
    assert not hm.check_loss_decreasing([1.0, 0.8], steps, 3, 0.01).passed
    assert not hm.check_loss_decreasing([1.0, 0.8], steps[:50], 1, 0.01).passed  # 1 in 50 is 2 %
    assert hm.check_loss_decreasing([], [4.0, 4.0, 3.0, 3.0, 2.0, 2.0, 1.0, 1.0], 0, 0.01).passed
    assert hm.check_loss_decreasing([], [], 0, 0.01).value is None  # unmeasured is null, not NaN


def test_monitor_and_stop_policy():
    cfg = HealthConfig()
    mon = hm.HealthMonitor(cfg, clip_norm=5.0)
    h = mon.observe(1, {"loss": 1.0, "mse": 0.5, "grad_norm": 6.0}, None, 6.0, [])
    assert h.clipped and hm.decide_stop(h, mon.state, cfg) is None
    h = mon.observe(2, {"loss": math.nan}, "loss component ranking", math.nan, [])
    reason = hm.decide_stop(h, mon.state, cfg)
    assert reason.startswith("step 2: non-finite loss component ranking")
    assert "(step 1)" in reason and "loss=1" in reason  # the last finite values


def test_skip_policy_counts_and_stops_after_the_limit():
    cfg = HealthConfig(nonfinite_policy="skip", max_skipped_steps=2)
    mon = hm.HealthMonitor(cfg, clip_norm=5.0)
    reasons = []
    for step in range(1, 5):
        h = mon.observe(step, {"loss": math.nan}, "total loss", math.nan, [])
        assert h.skipped
        reasons.append(hm.decide_stop(h, mon.state, cfg))
    assert reasons[:2] == [None, None]
    assert "3 non-finite steps skipped, more than monitoring.health.max_skipped_steps = 2" in reasons[2]


def test_health_state_round_trips_through_primitives():
    state = hm.HealthState(recent_losses=[1.0, 2.0], last_finite={"loss": 1.0}, last_finite_step=3,
                           n_skipped=1, n_nonfinite=1, n_fallbacks=0)
    assert hm.HealthState.from_state(state.to_state()) == state


def test_checklist_from_records_in_seed_order():
    steps = [{"kind": "step", "step": i, "loss": 1.0 / i, "grad_norm": 1.5, "clipped": False,
              "weighted": {"ranking": 0.8, "calib_max": 0.2}, "nonfinite": None, "spike": False,
              "bn_eval": [], "skipped": False} for i in range(1, 9)]
    epochs = [{"kind": "epoch", "step": 4, "train_loss": 0.5, "grad_norm_mean": 1.5},
              {"kind": "epoch", "step": 8, "train_loss": 0.2, "grad_norm_mean": 1.5}]
    items = hm.checklist([from_json(r) for r in steps + epochs], 5.0, HealthConfig(), has_batchnorm=True)
    assert [i.name for i in items] == [
        "grad_norm_below_clip", "grad_norm_typical", "clipped_fraction", "loss_decreasing_smoothly",
        "no_nonfinite", "components_balanced", "batchnorm_train_mode", "no_resets"]
    assert all(i.passed for i in items), [i for i in items if not i.passed]


def _records(norms_by_epoch, clipped=False):
    out, step = [], 0
    for epoch, norms in enumerate(norms_by_epoch):
        for g in norms:
            step += 1
            out.append({"kind": "step", "epoch": epoch, "step": step, "loss": 1.0 / step, "grad_norm": g,
                        "clipped": clipped, "weighted": {"ranking": 1.0}, "nonfinite": None,
                        "spike": False, "bn_eval": [], "skipped": False})
        out.append({"kind": "epoch", "epoch": epoch, "step": step, "train_loss": 1.0 / (epoch + 1),
                    "grad_norm_mean": sum(norms) / len(norms)})
    return [from_json(r) for r in out]  # as runlog.read_metrics gives them back


def test_gradient_items_read_the_final_epoch():
    """Seed: 'Epoch 3: Grad = 28.9' / 'Epoch 3-5: Grad < 5.0': a high first epoch (initialisation,
    warm-up) does not fail the run when the last epoch is below the clip; a high last one does."""
    calm_end = hm.checklist(_records([[9.0] * 4, [6.0] * 4, [2.0] * 4]), 5.0, HealthConfig(), False)
    assert [i.passed for i in calm_end[:3]] == [True, True, True]
    assert calm_end[0].value == 2.0 and calm_end[0].reason.startswith("epoch 3 (3 logged) mean")
    hot_end = hm.checklist(_records([[2.0] * 4, [2.0] * 4, [28.9] * 4]), 5.0, HealthConfig(), False)
    assert hot_end[0].value == 28.9 and not hot_end[0].passed and not hot_end[1].passed


def test_gradient_items_compare_at_unit_loss_scale():
    """A loss scaled by 0.002 has gradients 500x smaller; the clip and the '1-3' band of the seed
    note are for the unscaled loss, so 0.0578 logged at scale 0.002 is 28.9 and fails."""
    scaled = _records([[0.0578] * 4])
    items = hm.checklist(scaled, 2.0, HealthConfig(), False, loss_scale=0.002)
    assert items[0].value == pytest.approx(28.9) and not items[0].passed
    assert not items[1].passed
    assert items[2].passed and "the clip acts at 1000 at unit loss scale" in items[2].reason
    unit = hm.checklist(_records([[0.0578] * 4]), 2.0, HealthConfig(), False)
    assert unit[0].passed and unit[0].value == pytest.approx(0.0578)
