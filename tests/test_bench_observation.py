"""The observation model (what a search reports) and the overlap-dependent labels (issue 12, items 1-2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ahsd_train.engine import benchmark as bm
from ahsd_train.engine import normalization as nz
from ahsd_train.engine import observation as obs
from ahsd_train.review.bench import project_config
from ahsd_train.engine import data as data_module
from ahsd_train.engine.data import SyntheticScenarioSource, antenna_response, detector_snr

CFG = project_config()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def generate(n: int, seed: int = 0, **synthetic):
    data = CFG.data.model_copy(update={"synthetic": CFG.data.synthetic.model_copy(update=synthetic)})
    pn = CFG.priority_net.model_copy(update={"use_strain": False})
    return SyntheticScenarioSource(data, pn, seed=seed).generate(n)


def physical(batch, name: str) -> torch.Tensor:
    return nz.column(batch.features.double(), name)


def formula_snr(batch) -> torch.Tensor:
    """The generator's own SNR formula applied to the noisy estimates."""
    col = lambda name: physical(batch, name)  # noqa: E731
    resp = antenna_response(col("ra"), col("dec"), col("psi"), col("theta_jn"), CFG.data.synthetic.strain_detectors)
    m1, m2 = col("mass_1"), col("mass_2")
    return detector_snr(nz.chirp_mass(m1, m2), m1 + m2, col("luminosity_distance"), resp, CFG.data.f_low).norm(dim=-1)


def test_distance_estimate_carries_no_amplitude_information_beyond_the_snr_estimate():
    """The issue's leak: the SNR formula on noisy (distance, inclination, sky) ranked better than the SNR
    estimate. The distance is now the maximum-likelihood one given the SNR, so the formula gives back
    exactly the SNR estimate and cannot rank better."""
    batch = generate(600)
    rho = formula_snr(batch)
    torch.testing.assert_close(rho[batch.mask], batch.snr_estimate.double()[batch.mask], rtol=1e-4, atol=1e-4)
    tau_formula = np.nanmean(bm.per_scenario(rho, batch).tau)
    tau_estimate = np.nanmean(bm.per_scenario(batch.snr_estimate, batch).tau)
    assert tau_formula <= tau_estimate + 1e-9


def test_snr_estimate_is_the_matched_filter_statistic_of_isolated_signals():
    """Isolated signals: rho_hat^2 is non-central chi^2 with 2 dof per detector (mean rho^2 + 2D), so a
    loud signal's estimate scatters by ~1 around its true SNR."""
    batch = generate(1500, create_overlaps=False)
    m = batch.mask & (batch.snr > 20)
    err = (batch.snr_estimate - batch.snr)[m].double()
    D = CFG.data.synthetic.strain_detectors
    assert float(err.std()) == pytest.approx(1.0, abs=0.1)
    quiet = batch.mask & (batch.snr < 10)  # the excess's scatter grows as 2 rho: average where it is small
    excess = (batch.snr_estimate.double() ** 2 - batch.snr.double() ** 2)[quiet]
    assert float(excess.mean()) == pytest.approx(2 * D, abs=0.4)


def test_chirp_mass_well_measured_mass_ratio_poorly_sky_from_timing():
    g = torch.Generator().manual_seed(0)
    B, S = 4000, 1
    u = lambda *shape: torch.rand(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    nrm = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    m1 = torch.cat([torch.full((B // 2, S), 1.4), torch.full((B // 2, S), 35.0)]).double()
    p = {"mass_1": m1, "mass_2": m1.clone(), "ra": 2 * math.pi * u(B, S), "dec": 0.5 * u(B, S), "psi": u(B, S),
         "theta_jn": u(B, S) + 0.5, "geocent_time": u(B, S), "chi_1": 0 * u(B, S), "chi_2": 0 * u(B, S)}
    rho_det = torch.full((B, S, 2), 20 / math.sqrt(2), dtype=torch.float64)  # network SNR 20
    resp = lambda ra, dec, psi, iota: antenna_response(ra, dec, psi, iota, 2)  # noqa: E731
    est = obs.observe(p, rho_det, torch.zeros(B, S, S, dtype=torch.float64), scale=1.0, f_low=20.0,
                      response=resp, nrm=nrm, u=u)
    dlog_mc = (torch.log(nz.chirp_mass(est["mass_1"], est["mass_2"])) - torch.log(nz.chirp_mass(m1, m1))).abs()
    dlog_q = torch.log(est["mass_1"] / est["mass_2"]).abs()
    bns, bbh = slice(0, B // 2), slice(B // 2, B)
    assert float(dlog_mc[bns].median()) < 1e-3 < float(dlog_mc[bbh].median()) < 0.1  # ~ Mc^(5/3) / SNR
    assert float(dlog_q.median()) > 5 * float(dlog_mc[bbh].median())  # q: the poorly measured one
    assert float((est["dec"] - p["dec"]).abs().median()) < 0.02  # ms timing over a 10 ms baseline
    assert float((est["geocent_time"] - p["geocent_time"]).abs().median()) < 1e-3


def test_estimate_noise_zero_gives_exact_parameters_but_a_noisy_snr():
    batch = generate(300, estimate_noise=0.0)
    assert not torch.allclose(batch.snr_estimate, batch.snr)
    mc = nz.chirp_mass(physical(batch, "mass_1"), physical(batch, "mass_2"))
    assert (mc[batch.mask] > 0).all()
    torch.testing.assert_close(formula_snr(batch)[batch.mask], batch.snr_estimate.double()[batch.mask], rtol=1e-4, atol=1e-4)


def test_effective_snr_subtracts_only_louder_overlapping_partners():
    snr = torch.tensor([[40.0, 10.0, 12.0]], dtype=torch.float64)
    overlap = torch.tensor([[[0, 0.5, 0], [0.5, 0, 0], [0, 0, 0]]], dtype=torch.float64)
    eff = obs.effective_snr(snr, overlap)[0]
    assert float(eff[0]) == 40.0  # the louder one is extracted first: untouched
    assert float(eff[1]) == pytest.approx(10.0 / math.sqrt(1 + (obs.EXTRACTION_RESIDUAL * 0.5 * 40.0) ** 2))
    assert float(eff[2]) == 12.0  # no overlapping partner
    assert float(eff[1]) < 8.0 < float(eff[2])  # the overlap changed the order, and detectability


def test_template_overlap_vanishes_beyond_the_horizon_and_at_padding():
    t = torch.tensor([[0.0, 0.1, 0.1 + obs.OVERLAP_HORIZON + 1e-3, 0.0]], dtype=torch.float64)
    mc = torch.tensor([[10.0, 10.0, 10.0, 10.0]], dtype=torch.float64)
    m = obs.template_overlap(t, mc, torch.tensor([[True, True, True, False]]))[0]
    assert float(m[0, 1]) == pytest.approx(math.exp(-0.1 / obs.OVERLAP_TIME_SCALE))
    assert float(m[1, 2]) == 0.0 and float(m[0, 3]) == 0.0 and float(m[0, 0]) == 0.0


def test_sorting_by_true_snr_is_imperfect_only_where_signals_overlap(monkeypatch):
    """With the user's bonuses off the label is a monotone function of the effective SNR.
    Without an overlapping partner the effective SNR is the SNR: sorting by the true SNR orders every
    untied pair right; with one it does not (a signal drops below a quieter, isolated one, or below
    threshold), and the SNR-estimate sort loses most there."""
    monkeypatch.setattr(data_module, "BONUS_EACH", 0.0)
    batch = generate(2000, overlap_fraction=0.5)
    mc = nz.chirp_mass(physical(batch, "mass_1"), physical(batch, "mass_2"))
    overlapped = (obs.template_overlap(physical(batch, "geocent_time"), mc, batch.mask) > 0).flatten(1).any(-1).numpy()
    true_sort, est_sort = bm.per_scenario(batch.snr, batch), bm.per_scenario(batch.snr_estimate, batch)
    acc = lambda s, sel: s.correct["all"][sel].sum() / s.count["all"][sel].sum()  # noqa: E731  untied pairs
    assert batch.n_signals[~overlapped].max() >= 4 and (batch.n_signals[torch.from_numpy(overlapped)] >= 4).any()
    assert acc(true_sort, ~overlapped) == 1.0
    assert acc(true_sort, overlapped) < 0.99
    assert acc(est_sort, overlapped) < acc(est_sort, ~overlapped) - 0.02


def test_effective_snr_estimate_is_the_label_formula_applied_to_the_estimates():
    """The model's ``effective_snr`` skip input and the benchmark's formula ranker: the overlap of the
    estimated templates and the SNR estimates' extraction order, nothing the search does not report."""
    batch = generate(200, overlap_fraction=0.5)
    got = obs.effective_snr_estimate(batch.features.double(), batch.snr_estimate.double(), batch.mask)
    mc = nz.chirp_mass(physical(batch, "mass_1"), physical(batch, "mass_2"))
    overlap = obs.template_overlap(physical(batch, "geocent_time"), mc, batch.mask)
    torch.testing.assert_close(got, obs.effective_snr(batch.snr_estimate.double(), overlap))
    alone = ~(overlap > 0).any(-1) & batch.mask  # no overlapping partner: the SNR estimate itself
    assert torch.equal(got[alone], batch.snr_estimate.double()[alone])
    assert (got[batch.mask & ~alone] < batch.snr_estimate.double()[batch.mask & ~alone]).any()
    assert (got[batch.mask] <= batch.snr_estimate.double()[batch.mask]).all()
