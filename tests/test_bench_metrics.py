"""Benchmark metrics: detectable-signal tau, ties, bootstrap CIs, paired gains, pair probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ahsd_train.engine import benchmark as bm
from ahsd_train.engine.data import FEATURE_NAMES, ScenarioBatch


def batch_of(labels: list[list[float]]) -> ScenarioBatch:
    """Scenarios with the given labels (padding where a row is shorter)."""
    S = max(len(r) for r in labels)
    y = torch.zeros(len(labels), S)
    mask = torch.zeros(len(labels), S, dtype=torch.bool)
    for b, row in enumerate(labels):
        y[b, : len(row)] = torch.tensor(row)
        mask[b, : len(row)] = True
    n = mask.sum(-1)
    z = torch.zeros_like(y)
    features = z.new_zeros(*z.shape, len(FEATURE_NAMES))  # every estimate at its normalisation centre
    return ScenarioBatch(features=features, mask=mask, priority=y, snr=z, snr_estimate=z + 1,
                         edge_type=mask.long(), n_signals=n)


def test_ties_as_stated():
    # Two undetectable signals (label 0): a tie, not a pair; tau counts detectable signals only.
    batch = batch_of([[0.9, 0.5, 0.0, 0.0]])
    score = torch.tensor([[0.8, 0.9, 0.1, 0.1]])  # detectable pair mis-ordered, undetectable tied
    s = bm.per_scenario(score, batch)
    assert s.tau[0] == -1.0  # only (0.9, 0.5) enters tau
    # untied pairs: (0.9,0.5) wrong, 4 detectable-vs-0 pairs right; (0,0) excluded
    assert (s.correct["all"][0], s.count["all"][0]) == (4.0, 5.0)
    assert (s.correct["3_4"][0], s.count["5plus"][0]) == (4.0, 0.0)
    # a prediction tie on an untied pair scores 1/2
    tied = bm.per_scenario(torch.tensor([[0.5, 0.5]]), batch_of([[0.9, 0.1]]))
    assert tied.correct["2"][0] == 0.5
    # fewer than two detectable signals: tau undefined; no detectable signal: top-1 undefined
    none = bm.per_scenario(torch.tensor([[0.3, 0.2]]), batch_of([[0.9, 0.0]]))
    assert math.isnan(none.tau[0]) and none.top1[0] == 1.0
    assert math.isnan(bm.per_scenario(torch.tensor([[0.3, 0.2]]), batch_of([[0.0, 0.0]])).top1[0])


def random_case(n: int = 400, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.rand(n, 5, generator=g) * (torch.rand(n, 5, generator=g) > 0.3)
    batch = batch_of(y.tolist())
    good = y + 0.1 * torch.randn(n, 5, generator=g)
    bad = y + 0.4 * torch.randn(n, 5, generator=g)
    return batch, good, bad


def test_bootstrap_ci_contains_the_point_and_paired_self_difference_is_zero():
    batch, good, bad = random_case()
    table = bm.ranking_table(bm.per_scenario(good, batch), bm.per_scenario(bad, batch))
    for metric in table.values():
        for side in ("model", "snr_sort", "gain"):
            lo, hi = metric[side]["ci95"]
            assert lo <= metric[side]["estimate"] <= hi
    assert table["tau_detectable"]["gain"]["ci95"][0] > 0  # less noise ranks better, CI excludes 0
    same = bm.ranking_table(bm.per_scenario(good, batch), bm.per_scenario(good, batch))
    assert same["tau_detectable"]["gain"] == {"estimate": 0.0, "ci95": [0.0, 0.0]}


def test_bootstrap_ci_width_shrinks_like_one_over_sqrt_n():
    widths = []
    for n in (200, 3200):
        batch, good, _ = random_case(n, seed=1)
        lo, hi = bm.ranking_table(bm.per_scenario(good, batch), bm.per_scenario(good, batch))["tau_detectable"]["model"]["ci95"]
        widths.append(hi - lo)
    assert widths[0] / widths[1] == pytest.approx(4.0, rel=0.3)


def test_constant_probability_gets_the_constant_brier():
    """Every |d| equal: the fitted temperature reproduces the validation accuracy as each pair's
    probability, so the model's Brier is the constant predictor's."""
    d = np.array([1.0] * 80 + [-1.0] * 20)
    out = bm.pair_calibration(d, d)
    assert out["pair_brier"] == pytest.approx(out["constant_pair_brier"], abs=1e-6)
    assert out["constant_pair_brier"] == pytest.approx(0.8 * 0.2)
    assert out["pair_auroc_misordered"] == 0.5


def test_pair_probability_separates_misordered_pairs_when_the_gap_says_so():
    rng = np.random.default_rng(0)
    true_gap = rng.exponential(0.2, 5000)
    d = true_gap + rng.normal(0, 0.1, 5000)  # small gaps get mis-ordered more often
    out = bm.pair_calibration(d[:2500], d[2500:])
    assert out["pair_brier"] < out["constant_pair_brier"]
    assert out["pair_auroc_misordered"] > 0.7 and out["pair_ece"] < 0.05
    p, right = bm.pair_probabilities(np.array([0.0, 0.3, -0.3]), 0.1)
    assert p[0] == 0.5 and right.tolist() == [0.0, 1.0, 0.0]  # a prediction tie is not a right order


def test_benchmark_metrics_carry_the_report_contract():
    batch, good, _ = random_case(300, seed=2)
    val, pv, _ = random_case(300, seed=3)
    m = bm.benchmark_metrics(pv, val, good, batch)
    for key in ("tau_detectable", "snr_baseline_tau_detectable", "pair_brier", "constant_pair_brier",
                "pair_auroc_misordered"):
        assert isinstance(m[key], float)
    assert m["n_test_scenarios"] == 300
    assert set(m["gain_vs_snr"]) == {"estimate", "ci95"} and len(m["gain_vs_snr"]["ci95"]) == 2
    assert set(m["gain_vs_effective_snr"]) == {"estimate", "ci95"} and isinstance(m["effective_snr_baseline_tau_detectable"], float)
