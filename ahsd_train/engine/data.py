"""Synthetic overlapping-signal scenarios, and the padded batch every part of the engine consumes.

A scenario holds ``min_signals``..``max_signals`` (uniform) compact-binary signals merging in one
``segment_seconds`` segment. With ``create_overlaps``, a fraction ``overlap_fraction`` of the
multi-signal scenarios is *overlapped*: their signals merge within ``OVERLAP_WINDOW`` of each other,
so their time-frequency tracks overlap; the rest are spread evenly over the segment.
Parameters come from physical priors; the network SNR from a simple physical model
(``Mc^(5/6) / d`` times the antenna response of ``strain_detectors`` detectors, reduced when the
chirp leaves the band early). The priority label is the user's labelling of the *effective* SNR: what
a signal keeps once its louder, time-frequency-overlapping partners have been subtracted in
extraction order (``observation.effective_snr``), so the order depends on the scenario, not on each
signal alone. The model sees what a search reports (``observation.observe``: matched-filter SNR
noise, well-measured chirp mass, poorly measured mass ratio and spins, distance inferred from the
amplitude, sky from timing), so sorting by the SNR estimate is an imperfect baseline -- and most
imperfect where signals overlap.

Everything is drawn from a ``torch.Generator`` on the target device: the same seed on the same
device gives the same scenarios.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace

import torch

from ahsd_train.engine import normalization as nz
from ahsd_train.engine import observation as obs
from ahsd_train.engine.normalization import FEATURE_NAMES
from ahsd_train.engine.observation import detector_snr  # the one SNR formula (the observation model inverts it)

__all__ = ["FEATURE_NAMES", "Population", "ScenarioBatch", "SyntheticScenarioSource", "iterate_batches", "split", "priority_labels"]

# --- the user's labelling (true parameters -> priority in [0, 1]) -----------------------------
DETECTION_SNR = 8.0  # below: not extractable, priority 0
BONUS_MASS_RATIO = 8.0  # q above this: +25 %
BONUS_SPIN = 0.8  # |chi| above this (either component): +25 %
BONUS_LOUD_SNR = 30.0  # SNR above this: +25 %
BONUS_EACH = 0.25
BONUS_CAP = 0.5  # bonuses sum to at most +50 %
LABEL_SNR_CAP = 150.0  # boosted SNR that maps to priority 1 (log scale between 8 and this)
# --- the SNR model -------------------------------------------------------------------------------
DETECTOR_LONGITUDES = (0.0, 0.8, 2.1, 3.5, 4.9)  # rad; detector k's arm frame (k < 5)
MASS_RANGE = {"BBH": ((5.0, 100.0), (5.0, 100.0)), "BNS": ((1.1, 2.5), (1.1, 2.5)), "NSBH": ((5.0, 100.0), (1.1, 2.5))}
SPIN_MAX = {"BH": 0.99, "NS": 0.05}
DISTANCE_RANGE = (50.0, 800.0)  # Mpc, log-uniform
OVERLAP_WINDOW = 0.5  # s: the merger times of an overlapped scenario's signals lie within this window


@dataclass
class ScenarioBatch:
    """A padded batch of scenarios; slot ``s`` of scenario ``b`` is a signal iff ``mask[b, s]``."""

    features: torch.Tensor  # (B, S, F) float, normalised estimates, FEATURE_NAMES order; 0 at padding
    mask: torch.Tensor  # (B, S) bool
    priority: torch.Tensor  # (B, S) float target in [0, 1]; 0 at padding
    snr: torch.Tensor  # (B, S) true network SNR
    snr_estimate: torch.Tensor  # (B, S) noisy SNR estimate (also a feature column)
    edge_type: torch.Tensor  # (B, S) long, 0 = padding
    n_signals: torch.Tensor  # (B,) long
    strain: torch.Tensor | None = None  # (B, S, D, T) whitened strain, or None

    def __len__(self) -> int:
        return self.features.shape[0]

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def _map(self, fn) -> ScenarioBatch:
        return replace(self, **{name: fn(t) for name, t in self.tensors().items()})

    def to(self, device: torch.device | str, non_blocking: bool = False) -> ScenarioBatch:
        return self._map(lambda t: t.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> ScenarioBatch:
        return self._map(lambda t: t.pin_memory())

    def slice(self, idx: torch.Tensor | slice) -> ScenarioBatch:
        """Scenarios ``idx`` with the signal axis trimmed to their largest scenario."""
        sub = self._map(lambda t: t[idx])
        width = max(int(sub.n_signals.max()), 1) if len(sub) else 1
        return sub.trim(width)

    def trim(self, width: int) -> ScenarioBatch:
        return self._map(lambda t: t if t.dim() == 1 else t[:, :width])

    def pad(self, width: int) -> ScenarioBatch:
        """Extra padded slots up to ``width`` (the model's outputs at real slots must not change)."""
        extra = width - self.features.shape[1]
        if extra <= 0:
            return self

        def grow(t: torch.Tensor) -> torch.Tensor:
            if t.dim() == 1:
                return t
            z = t.new_zeros(t.shape[0], extra, *t.shape[2:])
            return torch.cat([t, z], dim=1)

        return self._map(grow)


def split(batch: ScenarioBatch, validation_split: float, test_split: float) -> tuple[ScenarioBatch, ScenarioBatch, ScenarioBatch]:
    """Contiguous train/validation/test parts (scenarios are i.i.d., so contiguous is random)."""
    n = len(batch)
    n_val, n_test = int(round(n * validation_split)), int(round(n * test_split))
    n_train = n - n_val - n_test
    cuts = (slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, n))
    return tuple(batch.slice(c) for c in cuts)  # type: ignore[return-value]


def iterate_batches(batch: ScenarioBatch, batch_size: int, shuffle: bool, generator: torch.Generator | None = None) -> Iterator[ScenarioBatch]:
    """Mini-batches of ``batch``; ``generator`` (a CPU generator) seeds the shuffle."""
    n = len(batch)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    order = order.to(batch.features.device)
    for start in range(0, n, batch_size):
        yield batch.slice(order[start : start + batch_size])


def antenna_response(ra: torch.Tensor, dec: torch.Tensor, psi: torch.Tensor, iota: torch.Tensor, n_detectors: int) -> torch.Tensor:
    """Effective response ``(..., D)`` of each detector: sqrt(F+^2 A+^2 + Fx^2 Ax^2)."""
    lon = torch.tensor(DETECTOR_LONGITUDES[:n_detectors], dtype=ra.dtype, device=ra.device)  # (D,)
    theta = (math.pi / 2 - dec).unsqueeze(-1)  # (..., 1)
    phi = ra.unsqueeze(-1) - lon  # (..., D)
    p2, c = 2 * psi.unsqueeze(-1), torch.cos(theta)
    f_plus = 0.5 * (1 + c**2) * torch.cos(2 * phi) * torch.cos(p2) - c * torch.sin(2 * phi) * torch.sin(p2)
    f_cross = 0.5 * (1 + c**2) * torch.cos(2 * phi) * torch.sin(p2) + c * torch.sin(2 * phi) * torch.cos(p2)
    ci = torch.cos(iota).unsqueeze(-1)
    return torch.sqrt((f_plus * (1 + ci**2) / 2) ** 2 + (f_cross * ci) ** 2)  # (..., D)


def priority_labels(snr, q, chi_max) -> torch.Tensor:
    """The user's labelling from TRUE parameters and the EFFECTIVE SNR ``snr`` (what is left after the
    louder overlapping partners are subtracted): 0 below SNR 8; +25 % each for q > 8, |chi| > 0.8,
    SNR > 30, capped at +50 %; log-normalised to [0, 1]. (The user's flat x0.9 for every signal of an
    overlapped scenario is gone: it never changed an order; the effective SNR does.)"""
    bonus = BONUS_EACH * ((q > BONUS_MASS_RATIO).to(snr.dtype) + (chi_max > BONUS_SPIN).to(snr.dtype) + (snr > BONUS_LOUD_SNR).to(snr.dtype))
    boosted = snr * (1 + bonus.clamp_max(BONUS_CAP))
    level = torch.log1p(boosted / DETECTION_SNR) / math.log1p(LABEL_SNR_CAP / DETECTION_SNR)
    return torch.where(snr < DETECTION_SNR, torch.zeros_like(snr), level.clamp(0.0, 1.0))


@dataclass(frozen=True)
class Population:
    """Who is in each scenario: true parameters ``name -> (B, S)`` (padding slots hold draws too),
    ``mask`` ``(B, S)`` and ``n_signals`` ``(B,)``."""

    p: dict[str, torch.Tensor]
    mask: torch.Tensor
    n_signals: torch.Tensor


def _draws(g: torch.Generator, device: torch.device):
    """``u(*shape)`` uniform and ``nrm(*shape)`` normal float64 draws from ``g``."""
    u = lambda *shape: torch.rand(*shape, generator=g, device=device, dtype=torch.float64)  # noqa: E731
    nrm = lambda *shape: torch.randn(*shape, generator=g, device=device, dtype=torch.float64)  # noqa: E731
    return u, nrm


class SyntheticScenarioSource:
    """Scenarios drawn from ``data.synthetic``; strain too when ``priority_net.use_strain``."""

    def __init__(self, data_cfg, pn_cfg, seed: int, device: torch.device | str = "cpu") -> None:
        self.data_cfg, self.syn, self.pn_cfg = data_cfg, data_cfg.synthetic, pn_cfg
        self.seed = seed + self.syn.seed_offset
        self.device = torch.device(device)

    @property
    def strain_shape(self) -> tuple[int, int] | None:
        return (self.syn.strain_detectors, self.syn.strain_samples) if self.pn_cfg.use_strain else None

    def generate(self, n_scenarios: int) -> ScenarioBatch:
        g = torch.Generator(device=self.device)
        g.manual_seed(self.seed)
        pop = self.population(n_scenarios, g)
        p, mask = pop.p, pop.mask
        mc = nz.chirp_mass(p["mass_1"], p["mass_2"])  # (B, S)
        response = antenna_response(p["ra"], p["dec"], p["psi"], p["theta_jn"], self.syn.strain_detectors)  # (B, S, D)
        rho_det = detector_snr(mc, p["mass_1"] + p["mass_2"], p["luminosity_distance"], response, self.data_cfg.f_low)  # (B, S, D)
        rho_det = rho_det * mask.unsqueeze(-1)  # padding slots carry no signal into partners' filters
        overlap = obs.template_overlap(p["geocent_time"], mc, mask)  # (B, S, S)
        batch = self.assemble(pop, rho_det, overlap, g)
        if self.pn_cfg.use_strain:
            strain = self._strain(p, mc, rho_det, _draws(g, self.device)[1]).masked_fill(~mask[:, :, None, None], 0.0).float()
            batch = replace(batch, strain=strain)
        return batch.trim(max(int(pop.n_signals.max()), 1))

    def population(self, n_scenarios: int, g: torch.Generator) -> Population:
        """The scenarios' sizes, overlap flags and true parameters, the first draws from ``g``
        (the physics generator draws the same population from the same seed)."""
        u, _ = _draws(g, self.device)
        B, S = n_scenarios, self.syn.max_signals
        n_signals = self._sizes(B, u)  # (B,)
        overlapped = (u(B) < self.syn.overlap_fraction) & (n_signals >= 2) & self.syn.create_overlaps  # (B,)
        mask = torch.arange(S, device=self.device) < n_signals.unsqueeze(-1)  # (B, S)
        return Population(self._parameters(B, S, u, overlapped, n_signals), mask, n_signals)

    def assemble(self, pop: Population, rho_det: torch.Tensor, overlap: torch.Tensor, g: torch.Generator,
                 snr_hat: torch.Tensor | None = None) -> ScenarioBatch:
        """Labels, estimates and features from per-detector true SNRs ``rho_det`` ``(B, S, D)`` (0 at
        padding) and track overlaps ``(B, S, S)``; ``snr_hat`` ``(B, S)``, when given, is the measured
        matched-filter SNR (else the observation model draws it). The estimates' noise comes from ``g``."""
        p, mask = pop.p, pop.mask
        snr = rho_det.norm(dim=-1)  # (B, S)
        q = p["mass_1"] / p["mass_2"]
        chi_max = torch.maximum(p["chi_1"].abs(), p["chi_2"].abs())
        priority = priority_labels(obs.effective_snr(snr, overlap), q, chi_max)  # (B, S)
        est = self._estimates(p, rho_det, overlap, g, snr_hat)  # name -> (B, S)
        physical = torch.stack([est[name] for name in FEATURE_NAMES], dim=-1)  # (B, S, F)
        features = nz.normalize(physical)  # (B, S, F)
        features, edge, snr_est = self._hide(features, est, mask)  # (B, S, F), (B, S), (B, S)
        m = mask.to(torch.float64)
        return ScenarioBatch(
            features=(features * m.unsqueeze(-1)).float(),
            mask=mask,
            priority=(priority * m).float(),
            snr=(snr * m).float(),
            snr_estimate=(snr_est * m).float(),
            edge_type=edge,
            n_signals=pop.n_signals,
        )

    def _sizes(self, B: int, u) -> torch.Tensor:
        """Scenario sizes, uniform over [min_signals, max_signals]."""
        lo, hi = self.syn.min_signals, self.syn.max_signals
        return lo + (u(B) * (hi - lo + 1)).floor().long().clamp_max(hi - lo)

    def _merger_times(self, B: int, S: int, u, overlapped: torch.Tensor, n_signals: torch.Tensor) -> torch.Tensor:
        """``(B, S)`` merger times in the segment: an overlapped scenario's signals merge within
        OVERLAP_WINDOW of each other (their tracks overlap); the others are spread evenly, in a random
        order, with jitter, so neighbours are about segment / n apart."""
        T = self.syn.segment_seconds
        center = T * (0.2 + 0.6 * u(B, 1))  # (B, 1)
        close = center + OVERLAP_WINDOW * (u(B, S) - 0.5)
        real = torch.arange(S, device=self.device) < n_signals.unsqueeze(-1)  # (B, S)
        rank = torch.argsort(torch.argsort(u(B, S) + 2 * ~real, dim=-1), dim=-1)  # real signals: 0..n-1
        n = n_signals.unsqueeze(-1).to(torch.float64)
        spread = T * (0.05 + 0.9 * (rank + 0.25 + 0.5 * u(B, S)) / n)
        return torch.where(overlapped.unsqueeze(-1), close, spread)

    def _parameters(self, B: int, S: int, u, overlapped: torch.Tensor, n_signals: torch.Tensor) -> dict[str, torch.Tensor]:
        mix = self.syn.source_mix
        probs = torch.tensor([mix.BBH, mix.BNS, mix.NSBH], dtype=torch.float64, device=self.device)
        cdf = torch.cumsum(probs / probs.sum(), 0)
        kind = torch.searchsorted(cdf, u(B, S).contiguous()).clamp_max(2)  # (B, S) 0=BBH 1=BNS 2=NSBH
        ranges = torch.tensor([[r for pair in MASS_RANGE[k] for r in pair] for k in ("BBH", "BNS", "NSBH")], dtype=torch.float64, device=self.device)[kind]  # (B, S, 4)
        ma = ranges[..., 0] + u(B, S) * (ranges[..., 1] - ranges[..., 0])
        mb = ranges[..., 2] + u(B, S) * (ranges[..., 3] - ranges[..., 2])
        m1, m2 = torch.maximum(ma, mb), torch.minimum(ma, mb)
        # A neutron star is the lighter body of BNS and NSBH; black holes spin fast, neutron stars barely.
        s1 = torch.where(kind == 1, SPIN_MAX["NS"], SPIN_MAX["BH"])
        s2 = torch.where(kind == 0, SPIN_MAX["BH"], SPIN_MAX["NS"])
        lo, hi = (math.log(v) for v in DISTANCE_RANGE)
        return {
            "mass_1": m1,
            "mass_2": m2,
            "luminosity_distance": torch.exp(lo + u(B, S) * (hi - lo)),
            "ra": 2 * math.pi * u(B, S),
            "dec": torch.arcsin(2 * u(B, S) - 1),
            "theta_jn": torch.arccos(2 * u(B, S) - 1),
            "psi": math.pi * u(B, S),
            "phase": 2 * math.pi * u(B, S),
            "geocent_time": self._merger_times(B, S, u, overlapped, n_signals),
            "chi_1": s1 * (2 * u(B, S) - 1),
            "chi_2": s2 * (2 * u(B, S) - 1),
        }

    def _estimates(self, p, rho_det, overlap, g, snr_hat=None) -> dict[str, torch.Tensor]:
        """What a first-pass search would report (``observation.observe``, each noise model documented there)."""
        n_det = rho_det.shape[-1]
        u, nrm = _draws(g, self.device)
        response = lambda ra, dec, psi, iota: antenna_response(ra, dec, psi, iota, n_det)  # noqa: E731
        return obs.observe(p, rho_det, overlap, scale=self.syn.estimate_noise, f_low=self.data_cfg.f_low,
                           response=response, nrm=nrm, u=u, snr_hat=snr_hat)

    def _hide(self, features, est, mask) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``data.synthetic.hidden_estimates`` (ablation): those columns at their normalisation centre
        (0); hiding the SNR estimate also fixes ``snr_estimate`` at the centre's SNR and the edge
        types at 1 (they are built from it)."""
        hidden = set(self.syn.hidden_estimates)
        for name in hidden:
            features[..., nz.FEATURE_INDEX[name]] = 0.0
        if "snr_estimate" in hidden:
            return features, mask.long(), torch.full_like(est["snr_estimate"], math.exp(nz.TRANSFORMS["snr_estimate"].center))
        return features, self._edge_types(est, mask), est["snr_estimate"]

    def _edge_types(self, est, mask) -> torch.Tensor:
        """Edge-case id from observable estimates: bits close-in-time partner, quiet, high q, high spin."""
        t = est["geocent_time"]
        close = ((t[:, :, None] - t[:, None, :]).abs() < 0.2) & mask[:, :, None] & mask[:, None, :]
        close = (close & ~torch.eye(t.shape[1], dtype=torch.bool, device=t.device)).any(-1)
        code = close.long() + 2 * (est["snr_estimate"] < 10).long() + 4 * (est["mass_1"] / est["mass_2"] > 6).long()
        code = code + 8 * (torch.maximum(est["chi_1"].abs(), est["chi_2"].abs()) > 0.7).long()
        edge = (1 + code).clamp_max(self.pn_cfg.n_edge_types - 1)
        return edge.masked_fill(~mask, 0)

    def _strain(self, p, mc, rho_det, nrm) -> torch.Tensor:
        """Whitened strain ``(B, S, D, T)``: a leading-order chirp ending at f_ISCO, per detector, in
        coloured Gaussian noise, whitened by the noise ASD; the whitened chirp has norm = detector SNR."""
        syn, fs = self.syn, float(self.data_cfg.sample_rate)
        B, S, D = rho_det.shape
        T = syn.strain_samples
        merge = int(0.85 * T)
        tau = ((merge - torch.arange(T, device=self.device, dtype=torch.float64)) / fs).clamp_min(1e-6)  # (T,)
        mc_s = (mc * nz.MSUN_SECONDS).unsqueeze(-1)  # (B, S, 1)
        freq = (5 / tau) ** (3 / 8) * mc_s ** (-5 / 8) / (8 * math.pi)  # (B, S, T)
        phase = p["phase"].unsqueeze(-1) - 2 * (tau / (5 * mc_s)) ** (5 / 8)  # (B, S, T)
        fisco = nz.f_isco(p["mass_1"] + p["mass_2"]).unsqueeze(-1)
        live = (freq <= fisco) & (freq >= self.data_cfg.f_low) & (torch.arange(T, device=self.device) < merge)
        amp = freq ** (2 / 3) * live * torch.hann_window(T, periodic=False, dtype=torch.float64, device=self.device)
        ci = torch.cos(p["theta_jn"]).unsqueeze(-1)
        h_plus, h_cross = amp * (1 + ci**2) / 2 * torch.cos(phase), amp * ci * torch.sin(phase)  # (B, S, T)
        # Per-detector projection: rotate the polarisation by the detector's longitude.
        lon = torch.tensor(DETECTOR_LONGITUDES[:D], dtype=torch.float64, device=self.device)
        w = 2 * (p["psi"].unsqueeze(-1) + lon)  # (B, S, D)
        h = torch.cos(w).unsqueeze(-1) * h_plus.unsqueeze(2) + torch.sin(w).unsqueeze(-1) * h_cross.unsqueeze(2)  # (B, S, D, T)
        asd = self._asd(T, fs)  # (T//2+1,)
        white_h = torch.fft.irfft(torch.fft.rfft(h) / asd, n=T)  # (B, S, D, T)
        scale = rho_det.unsqueeze(-1) / white_h.norm(dim=-1, keepdim=True).clamp_min(1e-30)  # (B, S, D, 1)
        noise = torch.fft.irfft(torch.fft.rfft(nrm(B, S, D, T)) * asd, n=T)  # coloured
        data = scale * h + noise
        return torch.fft.irfft(torch.fft.rfft(data) / asd, n=T)  # (B, S, D, T) whitened

    def _asd(self, T: int, fs: float) -> torch.Tensor:
        """Analytic aLIGO-like ASD (relative units); a steep wall below f_low."""
        f = torch.fft.rfftfreq(T, d=1 / fs, device=self.device, dtype=torch.float64)
        x = f.clamp_min(self.data_cfg.f_low) / 215.0
        psd = x**-4.14 - 5 * x**-2 + 111 * (1 - x**2 + 0.5 * x**4) / (1 + 0.5 * x**2)
        wall = torch.where(f < self.data_cfg.f_low, 1e4, 1.0)
        return torch.sqrt(psd * wall)
