"""Ranking metrics agree with scipy per scenario; buckets, top-1, ECE and the SNR baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from ahsd_train.engine.data import ScenarioBatch
from ahsd_train.engine.metrics import evaluate, ranking_metrics, uncertainty_ece


def batch_of(target: torch.Tensor, mask: torch.Tensor, snr_est: torch.Tensor | None = None) -> ScenarioBatch:
    B, S = target.shape
    return ScenarioBatch(
        features=torch.zeros(B, S, 12),
        mask=mask,
        priority=target,
        snr=target,
        snr_estimate=target if snr_est is None else snr_est,
        edge_type=mask.long(),
        n_signals=mask.sum(-1),
    )


def random_scenarios(seed: int):
    g = torch.Generator().manual_seed(seed)
    sizes = torch.randint(1, 12, (40,), generator=g)
    S = int(sizes.max())
    mask = torch.arange(S) < sizes[:, None]
    target = ((torch.rand(40, S, generator=g) * 6).round() / 6) * mask  # ties
    pred = (torch.rand(40, S, generator=g) * 8).round() / 8 * mask  # ties too
    return pred.double(), target.double(), mask


def test_tau_and_rho_match_scipy_per_scenario():
    pred, target, mask = random_scenarios(0)
    taus, rhos = [], []
    for b in range(len(mask)):
        n = int(mask[b].sum())
        x, y = pred[b, :n].numpy(), target[b, :n].numpy()
        if n >= 2 and len(set(x)) > 1 and len(set(y)) > 1:
            taus.append(stats.kendalltau(x, y).statistic)
            rhos.append(stats.spearmanr(x, y).statistic)
    got = ranking_metrics(pred, target, mask)
    assert got["kendall_tau"] == pytest.approx(float(np.mean(taus)), abs=1e-9)
    assert got["spearman_rho"] == pytest.approx(float(np.mean(rhos)), abs=1e-9)


def test_pairwise_accuracy_buckets_and_top1():
    target = torch.tensor([[0.9, 0.1, 0.0, 0.0, 0.0], [0.5, 0.4, 0.3, 0.0, 0.0], [0.2, 0.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    perfect = ranking_metrics(target, target, mask)
    assert perfect["pairwise_accuracy"] == perfect["top1_accuracy"] == perfect["kendall_tau"] == 1.0
    assert math.isnan(perfect["pairwise_accuracy_5plus"])  # no scenario of 5+ signals
    pred = torch.tensor([[0.1, 0.9, 0, 0, 0], [0.5, 0.3, 0.4, 0, 0], [0.0, 0, 0, 0, 0]])
    got = ranking_metrics(pred, target, mask)
    assert got["pairwise_accuracy_2"] == 0.0
    assert got["pairwise_accuracy_3_4"] == pytest.approx(2 / 3)
    assert got["pairwise_accuracy"] == pytest.approx(2 / 4)
    assert got["top1_accuracy"] == pytest.approx(1 / 2)
    tied = ranking_metrics(torch.zeros_like(target), target, mask)
    assert tied["pairwise_accuracy"] == 0.5  # prediction ties count one half


def test_ece_is_zero_when_uncertainty_equals_error_and_positive_otherwise():
    mask = torch.ones(4, 3, dtype=torch.bool)
    err = torch.rand(4, 3, generator=torch.Generator().manual_seed(1))
    assert uncertainty_ece(err, err, mask) == pytest.approx(0.0, abs=1e-12)
    assert uncertainty_ece(err + 0.2, err, mask) == pytest.approx(0.2)


def test_evaluate_reports_the_snr_sort_baseline_on_the_same_data():
    pred, target, mask = random_scenarios(1)
    result = evaluate(pred.float(), batch_of(target.float(), mask, snr_est=target.float()), uncertainty=torch.rand_like(pred))
    for key in ("kendall_tau", "spearman_rho", "pairwise_accuracy", "pairwise_accuracy_2", "pairwise_accuracy_3_4", "pairwise_accuracy_5plus", "top1_accuracy", "priority_mae", "uncertainty_ece"):
        assert key in result
    assert result["snr_baseline_pairwise_accuracy"] == 1.0  # the estimate equals the target here
    assert result["snr_baseline_kendall_tau"] == pytest.approx(1.0)
