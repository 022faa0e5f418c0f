"""The batched PriorityLoss equals the naive per-scenario, per-pair reference (float64, 1e-5)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ahsd_train.engine import naive
from ahsd_train.review.bench import project_config
from ahsd_train.engine.data import ScenarioBatch
from ahsd_train.errors import NonFiniteError
from ahsd_train.engine.loss import COMPONENTS, PriorityLoss
from ahsd_train.engine.model import PriorityOutput

CFG = project_config()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def pn(**changes):
    return CFG.priority_net.model_copy(update=changes)


def scenarios(sizes: list[int], seed: int, pad: int = 0, ties: bool = True) -> tuple[ScenarioBatch, PriorityOutput]:
    """Random targets (quantised to 0.1 for ties, a third exact zeros), predictions and uncertainties."""
    g = torch.Generator().manual_seed(seed)
    B, S = len(sizes), max(sizes) + pad
    n = torch.tensor(sizes)
    mask = torch.arange(S) < n[:, None]
    y = torch.rand(B, S, generator=g, dtype=torch.float64)
    if ties:
        y = (y * 10).round() / 10
        y = torch.where(torch.rand(B, S, generator=g, dtype=torch.float64) < 0.3, 0.0, y)
    p = 0.5 + 0.4 * torch.randn(B, S, generator=g, dtype=torch.float64)
    u = torch.nn.functional.softplus(torch.randn(B, S, generator=g, dtype=torch.float64) - 2)
    snr = 40 * torch.rand(B, S, generator=g, dtype=torch.float64)
    m = mask.double()
    batch = ScenarioBatch(
        features=torch.zeros(B, S, 12, dtype=torch.float64),
        mask=mask,
        priority=y * m,
        snr=snr * m,
        snr_estimate=snr * m,
        edge_type=mask.long(),
        n_signals=n,
    )
    out = PriorityOutput(priority=(p * m).requires_grad_(), uncertainty=(u * m).requires_grad_(), raw=p * m)
    return batch, out


def val(t: torch.Tensor) -> float:
    return t.detach().item()


def per_scenario(out: PriorityOutput, batch: ScenarioBatch) -> list[PriorityOutput]:
    return [
        PriorityOutput(out.priority[b : b + 1, : int(n)], out.uncertainty[b : b + 1, : int(n)], out.raw[b : b + 1, : int(n)])
        for b, n in enumerate(batch.n_signals)
    ]


def assert_equivalent(cfg, batch, out, grads: bool = True):
    fast = PriorityLoss(cfg)(out, batch)
    ref = naive.loss(cfg, per_scenario(out, batch), batch)
    for name in COMPONENTS:
        assert fast.components[name].item() == pytest.approx(ref[name].detach().item(), abs=1e-5, rel=1e-5), name
    assert fast.total.detach().item() == pytest.approx(ref["total"].detach().item(), abs=1e-8, rel=1e-5)
    if grads:
        g_fast = torch.autograd.grad(fast.total, [out.priority, out.uncertainty])
        g_ref = torch.autograd.grad(ref["total"], [out.priority, out.uncertainty])
        for a, b in zip(g_fast, g_ref):
            torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-5)


@pytest.mark.parametrize("sizes", [[1, 2, 3, 4, 5, 8, 16, 32], [1], [1, 1, 1], [2, 7], [32, 1, 5]])
def test_batched_loss_equals_naive(sizes):
    batch, out = scenarios(sizes, seed=len(sizes))
    assert_equivalent(pn(), batch, out)


@settings(max_examples=20, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 32), min_size=1, max_size=5),
    seed=st.integers(0, 2**16),
    pad=st.integers(0, 3),
    smoothing=st.sampled_from([0.0, 0.1]),
    snr_weighting=st.booleans(),
    normalize=st.booleans(),
)
def test_batched_loss_equals_naive_hypothesis(sizes, seed, pad, smoothing, snr_weighting, normalize):
    cfg = pn(label_smoothing=smoothing, use_snr_weighting=snr_weighting, normalize_loss_by_components=normalize)
    batch, out = scenarios(sizes, seed=seed, pad=pad)
    assert_equivalent(cfg, batch, out)


def test_padding_does_not_change_the_loss():
    batch, out = scenarios([3, 1, 6], seed=1)
    loss = PriorityLoss(pn())(out, batch)
    wide, _ = scenarios([3, 1, 6], seed=1, pad=4)
    padded_out = PriorityOutput(*(torch.cat([t, torch.zeros(3, 4, dtype=t.dtype)], dim=1) for t in (out.priority, out.uncertainty, out.raw)))
    padded_batch = batch.pad(10)
    loss_wide = PriorityLoss(pn())(padded_out, padded_batch)
    for name in COMPONENTS:
        assert val(loss.components[name]) == pytest.approx(val(loss_wide.components[name]), abs=1e-12)


def test_single_signal_scenarios_are_defined_and_finite():
    batch, out = scenarios([1, 1, 1, 1], seed=3)
    result = PriorityLoss(pn())(out, batch)
    assert all(math.isfinite(val(v)) for v in result.components.values())
    assert val(result.components["min_variance"]) == 0.0  # no spread to keep: 0, not NaN
    assert val(result.components["calib_range"]) == 0.0
    assert val(result.components["ranking"]) == 0.0  # no pairs
    grads = torch.autograd.grad(result.total, [out.priority, out.uncertainty])
    assert all(torch.isfinite(g).all() for g in grads)


def test_all_ties_give_zero_ranking_loss():
    batch, out = scenarios([4, 3], seed=5)
    batch.priority[batch.mask] = 0.3
    assert val(PriorityLoss(pn())(out, batch).components["ranking"]) == 0.0


def test_weights_scale_and_normalisation_come_from_the_config():
    batch, out = scenarios([2, 5, 3], seed=7)
    base = PriorityLoss(pn())(out, batch)
    assert val(sum(base.weighted.values())) == pytest.approx(val(base.total))
    cfg = CFG.priority_net
    for name, key in (("mse", "mse_weight"), ("ranking", "ranking_weight"), ("min_variance", "min_variance_penalty_weight")):
        expected = getattr(cfg, key) * cfg.loss_scale_factor * val(base.components[name])
        assert val(base.weighted[name]) == pytest.approx(expected)
    doubled = PriorityLoss(pn(loss_scale_factor=2 * cfg.loss_scale_factor))(out, batch)
    assert val(doubled.total) == pytest.approx(2 * val(base.total))
    normalised = PriorityLoss(pn(normalize_loss_by_components=True))(out, batch)
    active = sum(1 for k in ("mse_weight", "ranking_weight", "uncertainty_weight", "uncertainty_bounds_weight", "calib_mean_weight", "calib_max_weight", "calib_range_weight", "min_variance_penalty_weight") if getattr(cfg, k) != 0)
    assert val(normalised.total) == pytest.approx(val(base.total) / active)
    no_mv = PriorityLoss(pn(min_variance_penalty_weight=0.0))(out, batch)
    assert val(no_mv.weighted["min_variance"]) == 0.0


def test_non_finite_prediction_raises_naming_the_cause():
    batch, out = scenarios([3, 2], seed=9)
    bad = out.priority.detach().clone()
    bad[1, 1] = float("nan")
    with pytest.raises(NonFiniteError, match=r"model output priority.*scenario 1, slot 1"):
        PriorityLoss(pn())(PriorityOutput(bad, out.uncertainty, out.raw), batch)


def test_nan_in_padding_is_ignored():
    batch, out = scenarios([3, 1], seed=11)
    p = out.priority.detach().clone()
    p[1, 2] = float("nan")  # a padded slot
    result = PriorityLoss(pn())(PriorityOutput(p, out.uncertainty, out.raw), batch)
    assert math.isfinite(val(result.total))
