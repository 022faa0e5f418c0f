"""What a search reports about each signal, and what overlapping partners do to it.

Two halves, both vectorised over ``(B, S)`` scenarios x signal slots:

**Overlap physics** (used by the labels and by the SNR estimate)

- ``template_overlap``: the normalised overlap ``m_ij = |<h_i|h_j>|`` of two signals' templates. A
  phenomenological form: ``exp(-|dt| / OVERLAP_TIME_SCALE) * exp(-|ln Mc_i - ln Mc_j| / OVERLAP_MC_SCALE)``,
  zero beyond ``OVERLAP_HORIZON``: tracks that merge close in time with similar chirp masses sweep
  the same frequencies at the same time (the mechanism behind the parameter biases of overlapping
  signals in Samajdar et al. 2021, PRD 104, 044003; Pizzati et al. 2022, PRD 105, 104016; Relton &
  Raymond 2021, PRD 104, 084039). The functional form and its scales are ours, not fitted.
- ``effective_snr``: the SNR a signal keeps after the louder partners have been subtracted in
  extraction order (loudest first). A subtracted template with match ``FF`` leaves a residual of norm
  ``sqrt(2 (1 - FF)) rho_j`` (Lindblom, Owen & Brown 2008, PRD 78, 124020, eq. 9); its projection on
  signal i's template, ``m_ij`` of it, is extra noise in i's matched filter:
  ``rho_eff_i = rho_i / sqrt(1 + sum_{j louder} (EXTRACTION_RESIDUAL * m_ij * rho_j)^2)``.

**Observation model** (``observe``: true parameters -> the estimates the model sees)

- SNR: per detector the matched-filter output maximised over phase is a complex number whose two
  quadratures carry unit-variance Gaussian noise, so ``rho_hat_d^2`` is non-central chi^2 with 2 degrees
  of freedom (Allen et al. 2012, FINDCHIRP, PRD 85, 122006, sec. II-III); the network SNR is the
  root sum of squares over detectors. An overlapping partner adds its projection ``m_ij rho_j`` with an
  unknown relative phase (cross-talk: a quiet signal next to a loud one looks louder).
- chirp mass: log-normal with ``sigma = MC_ERROR_COEF * Mc^(5/3) / rho_hat`` -- the error falls with the
  number of in-band cycles (``~ Mc^(-5/3)``) and with SNR (Cutler & Flanagan 1994, PRD 49, 2658,
  sec. IV: ~0.04 % for a neutron-star binary at SNR 10, percent level for heavy black holes).
- mass ratio and spins: poorly measured -- the mass ratio / spin degeneracy (Cutler & Flanagan 1994;
  Baird et al. 2013, PRD 87, 024035): ``ln q`` with ``Q_ERROR * 10 / rho_hat``, each aligned spin with
  ``SPIN_ERROR * 10 / rho_hat``.
- sky and time: from arrival times. Timing accuracy ``sigma_t = 1 / (2 pi sigma_f rho_d)`` with an
  effective bandwidth ``sigma_f ~ 100 Hz`` (Fairhurst 2009, New J. Phys. 11, 123006, eq. 2), angles
  ``~ sqrt(2) sigma_t / BASELINE_SECONDS`` (ms-level timing over a 10 ms light-travel baseline). Two
  detectors only fix a ring: right ascension then gets ``RING_ERROR`` instead.
- polarisation: barely constrained by a nearly aligned network (``PSI_ERROR``); phase: not reported
  (searches maximise over it), drawn uniformly.
- inclination: ``cos(iota)`` with ``COS_IOTA_ERROR * 10 / rho_hat`` (broad: the distance-inclination
  degeneracy, Usman et al. 2019, ApJ 877, 82).
- distance: inferred FROM the amplitude -- the maximum-likelihood distance given the measured SNR and
  the other estimates: the distance at which the generator's SNR formula gives exactly ``rho_hat``.
  It therefore carries no amplitude information beyond ``rho_hat``, and its error is correlated with
  the inclination, sky and polarisation errors, as the real degeneracy makes it.

``scale`` (``data.synthetic.estimate_noise``) multiplies every parameter-estimation error above (1 =
as documented, 0 = exact parameters); the SNR noise is the detector's and is never scaled.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from ahsd_train.engine import normalization as nz

Draw = Callable[..., torch.Tensor]  # shape -> float64 samples on the generator's device

# --- the SNR model (the generator's labels and this module's distance estimate share it) ---------
SNR_SCALE = 700.0  # network SNR of a 1 Msun chirp mass at 1 Mpc, optimally oriented, per detector

# --- overlap -----------------------------------------------------------------------------------
OVERLAP_TIME_SCALE = 0.25  # s: overlap halves about every 0.17 s of merger-time separation
OVERLAP_MC_SCALE = 0.5  # e-folding of the overlap in |ln Mc_i - ln Mc_j|
OVERLAP_HORIZON = 0.2  # s: tracks merging further apart do not overlap (spread scenarios of <= 8 signals stay beyond it)
EXTRACTION_RESIDUAL = 0.2  # sqrt(2 (1 - FF)) for a subtraction with fitting factor FF = 0.98
CROSSTALK = 0.3  # fraction of the track overlap that survives in the matched filter's projection
# --- observation ---------------------------------------------------------------------------------
MC_ERROR_COEF = 3e-3  # sigma(ln Mc) = this x Mc^(5/3) / rho: 4e-4 at Mc 1.2, rho 10; 9 % at Mc 30
MC_ERROR_MAX = 0.3
Q_ERROR = 0.5  # sigma(ln q) at rho 10
SPIN_ERROR = 0.5  # sigma(chi_i) at rho 10: individual aligned spins are barely measured
COS_IOTA_ERROR = 0.3  # sigma(cos iota) at rho 10
PSI_ERROR = 0.5  # rad
BANDWIDTH_HZ = 100.0  # effective bandwidth sigma_f of the timing accuracy
BASELINE_SECONDS = 0.010  # light-travel time between detectors
RING_ERROR = 1.0  # rad: right-ascension error when two detectors only fix a ring
SNR_FLOOR = 0.1
BANK_MARGIN = 1.1  # templates end at least 10 % above f_low


def template_overlap(t: torch.Tensor, mc: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``m_ij`` ``(B, S, S)`` in [0, 1] from merger times and chirp masses ``(B, S)``; 0 on the
    diagonal, at padding and beyond ``OVERLAP_HORIZON``."""
    dt = (t.unsqueeze(-1) - t.unsqueeze(-2)).abs()  # (B, S, S)
    dlog_mc = (torch.log(mc).unsqueeze(-1) - torch.log(mc).unsqueeze(-2)).abs()
    m = torch.exp(-dt / OVERLAP_TIME_SCALE - dlog_mc / OVERLAP_MC_SCALE) * (dt <= OVERLAP_HORIZON)
    eye = torch.eye(t.shape[-1], dtype=torch.bool, device=t.device)
    return m * (mask.unsqueeze(-1) & mask.unsqueeze(-2) & ~eye)  # (B, S, S)


def louder(snr: torch.Tensor) -> torch.Tensor:
    """``(B, S, S)``: True where j is extracted before i (louder; equal SNRs: lower slot first)."""
    S = snr.shape[-1]
    idx = torch.arange(S, device=snr.device)
    si, sj = snr.unsqueeze(-1), snr.unsqueeze(-2)
    return (sj > si) | ((sj == si) & (idx.view(1, S) < idx.view(S, 1)))


def effective_snr(snr: torch.Tensor, overlap: torch.Tensor) -> torch.Tensor:
    """``(B, S)``: the SNR left once every louder overlapping partner has been subtracted."""
    residual = (EXTRACTION_RESIDUAL * overlap * snr.unsqueeze(-2)) ** 2 * louder(snr)  # (B, S, S)
    return snr / torch.sqrt(1 + residual.sum(-1))


def effective_snr_estimate(features: torch.Tensor, snr_estimate: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(B, S)``: ``effective_snr`` applied to what a search reports -- the overlap of the estimated
    templates (estimated merger times and chirp masses) and the extraction order of the SNR
    estimates. The search's own guess of what each signal keeps once its louder overlapping partners
    are subtracted; ``features (B, S, F)`` are normalised estimates (``FEATURE_NAMES`` order)."""
    col = lambda name: nz.column(features, name)  # noqa: E731  (B, S)
    mc = nz.chirp_mass(col("mass_1").clamp_min(nz.LOG_FLOOR), col("mass_2").clamp_min(nz.LOG_FLOOR))
    overlap = template_overlap(col("geocent_time"), mc, mask)  # (B, S, S)
    return effective_snr(snr_estimate.to(features.dtype), overlap)


def observed_snr(rho_det: torch.Tensor, overlap: torch.Tensor, nrm: Draw, u: Draw) -> torch.Tensor:
    """Network matched-filter SNR ``(B, S)`` from per-detector true SNRs ``(B, S, D)``."""
    B, S, D = rho_det.shape
    phase = 2 * math.pi * u(B, S, S)  # relative phase of each partner's projection
    leak = CROSSTALK * overlap  # (B, S, S)
    leak_re = torch.einsum("bij,bjd->bid", leak * torch.cos(phase), rho_det)  # (B, S, D)
    leak_im = torch.einsum("bij,bjd->bid", leak * torch.sin(phase), rho_det)
    re = rho_det + leak_re + nrm(B, S, D)  # two unit-variance quadratures per detector
    im = leak_im + nrm(B, S, D)
    return torch.sqrt((re**2 + im**2).sum(-1)).clamp_min(SNR_FLOOR)  # (B, S)


def observe(p: dict[str, torch.Tensor], rho_det: torch.Tensor, overlap: torch.Tensor, *, scale: float,
            f_low: float, response: Callable[..., torch.Tensor], nrm: Draw, u: Draw,
            snr_hat: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The estimates ``name -> (B, S)`` (``FEATURE_NAMES``) a search reports for true parameters ``p``.

    ``response(ra, dec, psi, theta_jn) -> (B, S, D)`` is the generator's antenna response; the
    distance estimate inverts the generator's SNR formula with it. ``snr_hat`` ``(B, S)``: a measured
    matched-filter SNR (the physics generator's) instead of the modelled one."""
    B, S, D = rho_det.shape
    if snr_hat is None:
        snr_hat = observed_snr(rho_det, overlap, nrm, u)  # (B, S)
    snr_hat = snr_hat.clamp_min(SNR_FLOOR)
    ten = 10.0 / snr_hat.clamp_min(1.0)  # errors scale as 1 / SNR (capped below SNR 1)
    g = lambda: nrm(B, S)  # noqa: E731

    mc = nz.chirp_mass(p["mass_1"], p["mass_2"])
    mc_hat = mc * torch.exp(scale * (MC_ERROR_COEF * mc ** (5 / 3) / snr_hat.clamp_min(1.0)).clamp_max(MC_ERROR_MAX) * g())
    q_hat = torch.exp((torch.log(p["mass_1"] / p["mass_2"]) + scale * Q_ERROR * ten * g()).abs())  # >= 1
    m1_hat, m2_hat = in_band_masses(mc_hat, q_hat, f_low)

    sigma_t = 1.0 / (2 * math.pi * BANDWIDTH_HZ * (snr_hat / math.sqrt(D)).clamp_min(1.0))  # (B, S) s
    sigma_sky = math.sqrt(2) * sigma_t / BASELINE_SECONDS
    sigma_ra = sigma_sky if D >= 3 else torch.full_like(sigma_sky, RING_ERROR)
    cos_iota = (torch.cos(p["theta_jn"]) + scale * COS_IOTA_ERROR * ten * g()).clamp(-1.0, 1.0)
    est = {
        "mass_1": m1_hat,
        "mass_2": m2_hat,
        "ra": torch.remainder(p["ra"] + scale * sigma_ra * g(), 2 * math.pi),
        "dec": (p["dec"] + scale * sigma_sky * g()).clamp(-math.pi / 2, math.pi / 2),
        "theta_jn": torch.arccos(cos_iota),
        "psi": torch.remainder(p["psi"] + scale * PSI_ERROR * g(), math.pi),
        "phase": 2 * math.pi * u(B, S),
        "geocent_time": p["geocent_time"] + scale * sigma_t * g(),
        "chi_1": (p["chi_1"] + scale * SPIN_ERROR * ten * g()).clamp(-1.0, 1.0),
        "chi_2": (p["chi_2"] + scale * SPIN_ERROR * ten * g()).clamp(-1.0, 1.0),
        "snr_estimate": snr_hat,
    }
    resp = response(est["ra"], est["dec"], est["psi"], est["theta_jn"])  # (B, S, D)
    est["luminosity_distance"] = ml_distance(snr_hat, nz.chirp_mass(m1_hat, m2_hat), m1_hat + m2_hat, resp, f_low)
    return est


def masses_from(mc: torch.Tensor, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Component masses (m1 >= m2) from chirp mass and mass ratio q = m1 / m2 >= 1."""
    m2 = mc * (1 + q) ** 0.2 / q**0.6
    return q * m2, m2


def in_band_masses(mc: torch.Tensor, q: torch.Tensor, f_low: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``masses_from`` restricted to templates with power above ``f_low`` (a search's bank holds no
    other): where the total mass would put f_ISCO below ``BANK_MARGIN x f_low``, the mass ratio is
    lowered (bisection in ln q; the total mass grows with q at fixed chirp mass) until it does not."""
    m_max = 1.0 / (6.0**1.5 * math.pi * nz.MSUN_SECONDS * BANK_MARGIN * f_low)  # total-mass limit
    mc = mc.clamp_max(0.99 * m_max * 0.25**0.6)  # an equal-mass template of that chirp mass fits
    lo, hi = torch.zeros_like(q), torch.log(q)
    for _ in range(40):  # 40 halvings of ln q: far below float64 noise for any prior mass ratio
        mid = (lo + hi) / 2
        fits = sum(masses_from(mc, torch.exp(mid))) <= m_max
        lo, hi = torch.where(fits, mid, lo), torch.where(fits, hi, mid)
    too_heavy = sum(masses_from(mc, q)) > m_max
    return masses_from(mc, torch.where(too_heavy, torch.exp(lo), q))


def detector_snr(mc, total_mass, distance, response, f_low: float) -> torch.Tensor:
    """Per-detector SNR ``(..., D)``: ``SNR_SCALE Mc^(5/6) / d`` x response x in-band fraction."""
    in_band = (1 - (f_low / nz.f_isco(total_mass)) ** (4 / 3)).clamp_min(0.0).sqrt()  # (...)
    return (SNR_SCALE * mc ** (5 / 6) / distance * in_band).unsqueeze(-1) * response


def ml_distance(snr_hat, mc_hat, total_hat, resp, f_low: float) -> torch.Tensor:
    """The distance at which ``detector_snr`` of the estimates is exactly ``snr_hat`` (Mpc)."""
    unit = detector_snr(mc_hat, total_hat, torch.ones_like(mc_hat), resp, f_low).norm(dim=-1)  # SNR at 1 Mpc
    return (unit / snr_hat).clamp_min(nz.LOG_FLOOR)
