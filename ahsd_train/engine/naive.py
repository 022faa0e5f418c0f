"""The plain reference: one scenario at a time, one pair at a time, in Python.

This is how the user's code computed the overlap features and the loss. It is kept as the
oracle the batched engine is tested against (to 1e-5 in float64) and as the benchmark's
"naive loop". It shares the model's weights (the importance and encoding MLPs) but none of its
vectorised code; the per-pair geometry is written out with ``math``.
"""

from __future__ import annotations

import math

import torch

from ahsd_train.engine import loss as L
from ahsd_train.engine import normalization as nz
from ahsd_train.engine.model import OverlapAnalyzer, PriorityOutput


def pair_feature_list(phys_i: dict[str, float], phys_j: dict[str, float]) -> list[float]:
    """The 9 overlap features of partner j as seen from signal i (``model.PAIR_FEATURE_NAMES``)."""

    def log_mc(p):
        m1, m2 = max(p["mass_1"], nz.LOG_FLOOR), max(p["mass_2"], nz.LOG_FLOOR)
        return math.log((m1 * m2) ** 0.6 / (m1 + m2) ** 0.2)

    def log_fisco(p):
        m = max(p["mass_1"], nz.LOG_FLOOR) + max(p["mass_2"], nz.LOG_FLOOR)
        return math.log(1.0 / (6.0**1.5 * math.pi * nz.MSUN_SECONDS * m))

    cos_sep = math.sin(phys_i["dec"]) * math.sin(phys_j["dec"]) + math.cos(phys_i["dec"]) * math.cos(phys_j["dec"]) * math.cos(phys_i["ra"] - phys_j["ra"])
    dpsi = math.fmod(abs(phys_i["psi"] - phys_j["psi"]), math.pi)
    dra = math.fmod(abs(phys_i["ra"] - phys_j["ra"]), 2 * math.pi)
    return [
        abs(phys_i["geocent_time"] - phys_j["geocent_time"]),
        math.acos(min(1.0, max(-1.0, cos_sep))) / math.pi,
        math.exp(-abs(log_mc(phys_i) - log_mc(phys_j))),
        math.exp(-abs(log_fisco(phys_i) - log_fisco(phys_j))),
        math.log(max(phys_j["luminosity_distance"], nz.LOG_FLOOR)) - math.log(max(phys_i["luminosity_distance"], nz.LOG_FLOOR)),
        min(dpsi, math.pi - dpsi) / (math.pi / 2),
        min(dra, 2 * math.pi - dra) / math.pi,
        abs(phys_i["dec"] - phys_j["dec"]) / math.pi,
        math.log(max(phys_j["snr_estimate"], nz.LOG_FLOOR)) - math.log(max(phys_i["snr_estimate"], nz.LOG_FLOOR)),
    ]


def physical_rows(features: torch.Tensor) -> list[dict[str, float]]:
    """``(n, F)`` normalised features -> one dict of physical values per signal."""
    phys = nz.to_physical(features.detach().double())
    return [dict(zip(nz.FEATURE_NAMES, row)) for row in phys.tolist()]


def overlap_features(analyzer: OverlapAnalyzer, features: torch.Tensor) -> torch.Tensor:
    """One scenario's overlap context ``(n, F) -> (n, 16)``, pair by pair."""
    rows = physical_rows(features)
    n = len(rows)
    p0 = next(analyzer.parameters())
    out = []
    for i in range(n):
        partners = [torch.tensor(pair_feature_list(rows[i], rows[j]), dtype=p0.dtype, device=p0.device) for j in range(n) if j != i]
        if not partners:  # a lone signal has no overlap context
            out.append(torch.zeros(16, dtype=p0.dtype, device=p0.device))
            continue
        if analyzer.use_attention:
            logits = torch.stack([analyzer.importance(f).squeeze(-1) for f in partners])
            weights = torch.softmax(logits, dim=0)
        else:
            weights = torch.full((len(partners),), 1.0 / len(partners), dtype=p0.dtype, device=p0.device)
        pooled = sum(w * f for w, f in zip(weights, partners))
        out.append(analyzer.encode(pooled))
    return torch.stack(out)


def forward(model, batch) -> list[PriorityOutput]:
    """Per-scenario forward passes with the naive overlap features: one ``PriorityOutput`` (1, n) each."""
    outs = []
    for b in range(len(batch)):
        sub = batch.slice(slice(b, b + 1))
        overlap = overlap_features(model.overlap, sub.features[0]).unsqueeze(0)
        outs.append(model(sub, overlap=overlap))
    return outs


def _scenario_terms(cfg, p: list, u: list, y: list[float], snr: list[float]) -> dict:
    """Per-scenario components (one signal at a time) and this scenario's ranking sums."""
    n = len(p)
    crowded = n >= L.CROWDED
    omega = [1.0 + (L.LOW_SNR_EMPHASIS * math.exp(-s / L.LOW_SNR_SCALE) if crowded and cfg.use_snr_weighting else 0.0) for s in snr]
    terms = {"mse": sum(w * (pi - yi) ** 2 for w, pi, yi in zip(omega, p, y)) / sum(omega)}
    unc = 0.0
    bounds = 0.0
    for pi, ui, yi in zip(p, u, y):
        err = abs(float(pi.detach()) - yi)
        unc = unc + (ui - err) ** 2 + L.UNC_LOG_WEIGHT * (torch.log(ui + L.UNC_LOG_EPS) - math.log(err + L.UNC_LOG_EPS)) ** 2
        bounds = bounds + torch.relu(cfg.uncertainty_lower_bound - ui) + torch.relu(ui - cfg.uncertainty_upper_bound)
    terms["uncertainty"] = unc / n
    terms["uncertainty_bounds"] = bounds / n
    p_mean, y_mean = sum(p) / n, sum(y) / n
    terms["calib_mean"] = (p_mean - y_mean) ** 2
    p_max, p_min = max(p, key=lambda t: float(t.detach())), min(p, key=lambda t: float(t.detach()))
    terms["calib_max"] = torch.log((torch.clamp(p_max, min=0) + L.CALIB_EPS) / (max(y) + L.CALIB_EPS)) ** 2
    terms["calib_range"] = torch.relu(torch.log((max(y) - min(y) + L.CALIB_EPS) / (p_max - p_min + L.CALIB_EPS))) ** 2
    p_var = sum((pi - p_mean) ** 2 for pi in p) / n
    y_std = math.sqrt(max(sum((yi - y_mean) ** 2 for yi in y) / n, L.STD_FLOOR))
    terms["min_variance"] = torch.relu(L.MIN_STD_FRACTION * y_std - torch.sqrt(torch.clamp(p_var, min=L.STD_FLOOR)))
    margin = L.MARGIN_SCALE_CROWDED if crowded else L.MARGIN_SCALE
    pair_w = float(L.bucket_weight(torch.tensor(n))) * (L.PAIR_WEIGHT_CROWDED if crowded else 1.0)
    rank_sum, rank_w = 0.0, 0.0
    for i in range(n):
        for j in range(n):
            if i != j and y[i] - y[j] >= L.RANK_MIN_GAP:
                rank_sum = rank_sum + pair_w * torch.relu(margin * (y[i] - y[j]) - (p[i] - p[j]))
                rank_w += pair_w
    terms["_rank_sum"], terms["_rank_w"] = rank_sum, rank_w
    return terms


def loss(cfg, outs: list[PriorityOutput], batch) -> dict[str, torch.Tensor]:
    """The composite loss from per-scenario outputs, as plain loops. Returns components and ``total``."""
    sums = {name: 0.0 for name in L.COMPONENTS if name != "ranking"}
    beta_total, rank_sum, rank_w = 0.0, 0.0, 0.0
    ls = cfg.label_smoothing
    for b, out in enumerate(outs):
        n = int(batch.n_signals[b])
        p = list(out.priority[0, :n])
        u = list(out.uncertainty[0, :n])
        y = [t * (1 - ls) + 0.5 * ls for t in batch.priority[b, :n].double().tolist()]
        snr = batch.snr[b, :n].double().tolist()
        terms = _scenario_terms(cfg, p, u, y, snr)
        beta = float(L.bucket_weight(torch.tensor(n)))
        beta_total += beta
        for name in sums:
            sums[name] = sums[name] + beta * terms[name]
        rank_sum, rank_w = rank_sum + terms["_rank_sum"], rank_w + terms["_rank_w"]
    comps = {name: v / beta_total for name, v in sums.items()}
    comps["ranking"] = rank_sum / rank_w if rank_w > 0 else torch.zeros(())
    comps = {k: torch.as_tensor(v) for k, v in comps.items()}
    weights = PriorityLossWeights(cfg)
    total = sum(weights[k] * comps[k] for k in L.COMPONENTS) * cfg.loss_scale_factor / weights.divisor
    return {**comps, "total": total}


class PriorityLossWeights(dict):
    """The component weights as the user's config names them (read the same way as the batched loss)."""

    def __init__(self, cfg) -> None:
        super().__init__(L.PriorityLoss(cfg, check_finite=False).weights)
        self.divisor = L.PriorityLoss(cfg, check_finite=False).divisor
