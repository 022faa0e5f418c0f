"""PriorityLoss: the composite loss, vectorised over scenarios and signal pairs with masks.

Components (names are stable; the trainer logs each and checks their balance):

==================== =====================================================================
``mse``              SNR-weighted squared error (low-SNR signals weigh more in 5+ scenarios)
``ranking``          adaptive pairwise hinge, margin proportional to the target gap
``uncertainty``      uncertainty regressed toward |error|, plus a log-scale calibration term
``uncertainty_bounds`` penalty for leaving [uncertainty_lower_bound, uncertainty_upper_bound]
``calib_mean``       squared gap between the scenario's mean prediction and mean target
``calib_max``        squared log-ratio of the scenario's max prediction to its max target
``calib_range``      one-sided squared log-ratio: predicted range narrower than the target range
``min_variance``     relu(0.5 * target std - prediction std), keeps predictions from collapsing
==================== =====================================================================

Aggregation: ``ranking`` pools all qualifying pairs of the batch (pair weight x bucket weight);
every other component is computed per scenario and averaged with bucket weights (scenarios of
3-4 and 5+ signals count more). ``total = loss_scale_factor * sum_c weight_c * L_c``, divided by
the number of components with a nonzero weight when ``normalize_loss_by_components``.

Single-signal scenarios: every component is defined. They have no pairs (``ranking`` gets none of
their weight) and no spread, so ``calib_range`` and ``min_variance`` are exactly 0 for them (the
population std of one value is 0, computed without the NaN of an unbiased ``std()``); they still
count in the scenario average of those components, as every scenario does. A batch without any
qualifying pair has ``ranking = 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ahsd_train.errors import NonFiniteError

COMPONENTS = ("mse", "ranking", "uncertainty", "uncertainty_bounds", "calib_mean", "calib_max", "calib_range", "min_variance")
CROWDED = 5  # scenarios of at least this many signals are "crowded" (the 5+ bucket)
RANK_MIN_GAP = 0.05  # pairs whose targets differ by less are ties for the ranking loss
MARGIN_SCALE = 0.5  # hinge margin = scale x |target gap|
MARGIN_SCALE_CROWDED = 0.75
PAIR_WEIGHT_CROWDED = 1.5
LOW_SNR_EMPHASIS = 1.0  # extra MSE weight of a zero-SNR signal in a crowded scenario, decaying with SNR
LOW_SNR_SCALE = 15.0
UNC_LOG_EPS = 0.01
UNC_LOG_WEIGHT = 0.1
CALIB_EPS = 0.1  # keeps the max/range log-ratios finite when targets are all zero
MIN_STD_FRACTION = 0.5
STD_FLOOR = 1e-12  # variance floor under sqrt: std of one value is 0 with a zero (not NaN) gradient


def bucket_weight(n: torch.Tensor) -> torch.Tensor:
    """Scenario weight by size: 1 for 1-2 signals, 1.25 for 3-4, 1.5 for 5+."""
    return torch.where(n >= CROWDED, 1.5, torch.where(n >= 3, 1.25, 1.0)).to(torch.get_default_dtype())


@dataclass
class LossResult:
    total: torch.Tensor  # () what backward() is called on
    components: dict[str, torch.Tensor]  # () each unweighted component
    weighted: dict[str, torch.Tensor]  # () each component's contribution; they sum to total


class PriorityLoss:
    def __init__(self, cfg, check_finite: bool = True) -> None:
        """``cfg`` is the ``priority_net`` section. ``check_finite`` costs one host sync per call on CUDA."""
        self.cfg = cfg
        self.check_finite = check_finite
        self.weights = {
            "mse": cfg.mse_weight,
            "ranking": cfg.ranking_weight,
            "uncertainty": cfg.uncertainty_weight,
            "uncertainty_bounds": cfg.uncertainty_bounds_weight,
            "calib_mean": cfg.calib_mean_weight,
            "calib_max": cfg.calib_max_weight,
            "calib_range": cfg.calib_range_weight,
            "min_variance": cfg.min_variance_penalty_weight,
        }
        n_active = sum(1 for w in self.weights.values() if w != 0)
        self.divisor = max(n_active, 1) if cfg.normalize_loss_by_components else 1

    def __call__(self, out, batch) -> LossResult:
        m = batch.mask  # (B, S)
        mf = m.to(out.priority.dtype)
        zero = torch.zeros((), dtype=out.priority.dtype, device=m.device)
        p = torch.where(m, out.priority, zero)  # (B, S)
        u = torch.where(m, out.uncertainty, zero)  # (B, S)
        y = torch.where(m, batch.priority.to(p.dtype), zero)
        y = y * (1 - self.cfg.label_smoothing) + 0.5 * self.cfg.label_smoothing * mf
        snr = torch.where(m, batch.snr.to(p.dtype), zero)
        n = mf.sum(-1)  # (B,)
        crowded = (n >= CROWDED).to(p.dtype)  # (B,)
        beta = bucket_weight(n).to(p.dtype)  # (B,)

        per_scenario = {
            "mse": self._mse(p, y, snr, mf, n, crowded),
            "uncertainty": self._uncertainty(p, u, y, mf, n),
            "uncertainty_bounds": ((self.cfg.uncertainty_lower_bound - u).relu() + (u - self.cfg.uncertainty_upper_bound).relu()).mul(mf).sum(-1) / n,
            **self._calibration(p, y, m, mf, n),
        }
        components = {name: (beta * v).sum() / beta.sum() for name, v in per_scenario.items()}  # () each
        components["ranking"] = self._ranking(p, y, m, crowded, beta)
        components = {name: components[name] for name in COMPONENTS}
        scale = self.cfg.loss_scale_factor / self.divisor
        weighted = {name: self.weights[name] * scale * v for name, v in components.items()}
        total = torch.stack(list(weighted.values())).sum()
        if self.check_finite and total.device.type != "meta" and not bool(torch.isfinite(total)):
            self._raise_non_finite(out, batch, components)
        return LossResult(total=total, components=components, weighted=weighted)

    def _mse(self, p, y, snr, mf, n, crowded) -> torch.Tensor:
        """(B,) SNR-weighted MSE: in crowded scenarios quiet signals get up to 1 + LOW_SNR_EMPHASIS."""
        w = mf  # (B, S)
        if self.cfg.use_snr_weighting:
            w = mf * (1 + LOW_SNR_EMPHASIS * crowded.unsqueeze(-1) * torch.exp(-snr / LOW_SNR_SCALE))
        return (w * (p - y) ** 2).sum(-1) / w.sum(-1)

    def _uncertainty(self, p, u, y, mf, n) -> torch.Tensor:
        """(B,) uncertainty toward the (detached) absolute error, plus log-scale calibration."""
        err = (p - y).abs().detach()  # (B, S)
        log_gap = torch.log(u + UNC_LOG_EPS) - torch.log(err + UNC_LOG_EPS)
        return (((u - err) ** 2 + UNC_LOG_WEIGHT * log_gap**2) * mf).sum(-1) / n

    def _calibration(self, p, y, m, mf, n) -> dict[str, torch.Tensor]:
        """(B,) each: mean gap, max log-ratio, range log-ratio (one-sided), min-variance."""
        neg_inf = torch.tensor(-torch.inf, dtype=p.dtype, device=p.device)
        pos_inf = torch.tensor(torch.inf, dtype=p.dtype, device=p.device)
        p_mean, y_mean = (p * mf).sum(-1) / n, (y * mf).sum(-1) / n  # (B,)
        p_max, y_max = torch.where(m, p, neg_inf).amax(-1), torch.where(m, y, neg_inf).amax(-1)  # (B,)
        p_min, y_min = torch.where(m, p, pos_inf).amin(-1), torch.where(m, y, pos_inf).amin(-1)
        max_ratio = torch.log((p_max.clamp_min(0) + CALIB_EPS) / (y_max + CALIB_EPS))
        range_ratio = torch.log((y_max - y_min + CALIB_EPS) / (p_max - p_min + CALIB_EPS))
        p_var = (((p - p_mean.unsqueeze(-1)) ** 2) * mf).sum(-1) / n  # (B,) population variance
        y_var = (((y - y_mean.unsqueeze(-1)) ** 2) * mf).sum(-1) / n
        p_std, y_std = p_var.clamp_min(STD_FLOOR).sqrt(), y_var.clamp_min(STD_FLOOR).sqrt()
        return {
            "calib_mean": (p_mean - y_mean) ** 2,
            "calib_max": max_ratio**2,
            "calib_range": range_ratio.relu() ** 2,
            "min_variance": (MIN_STD_FRACTION * y_std - p_std).relu(),
        }

    def _ranking(self, p, y, m, crowded, beta) -> torch.Tensor:
        """() hinge over pairs (i above j when y_i - y_j >= RANK_MIN_GAP), pooled over the batch."""
        gap = y.unsqueeze(-1) - y.unsqueeze(-2)  # (B, S, S) y_i - y_j
        pairs = (m.unsqueeze(-1) & m.unsqueeze(-2) & (gap >= RANK_MIN_GAP)).to(p.dtype)  # (B, S, S)
        scale = torch.where(crowded > 0, MARGIN_SCALE_CROWDED, MARGIN_SCALE).to(p.dtype)  # (B,)
        pair_w = beta * torch.where(crowded > 0, PAIR_WEIGHT_CROWDED, 1.0).to(p.dtype)  # (B,)
        hinge = (scale[:, None, None] * gap - (p.unsqueeze(-1) - p.unsqueeze(-2))).relu()  # (B, S, S)
        w = pairs * pair_w[:, None, None]  # (B, S, S)
        return (w * hinge).sum() / w.sum().clamp_min(torch.finfo(p.dtype).tiny)

    def _raise_non_finite(self, out, batch, components) -> None:
        m = batch.mask
        for name, t in (("model output priority", out.priority), ("model output uncertainty", out.uncertainty), ("target priority", batch.priority), ("snr", batch.snr)):
            bad = ~torch.isfinite(t) & m
            if bool(bad.any()):
                b, s = (int(i) for i in bad.nonzero()[0])
                raise NonFiniteError(name, f"{int(bad.sum())} value(s), first at scenario {b}, slot {s} ({float(t[b, s])})")
        names = [k for k, v in components.items() if not math.isfinite(float(v))]
        raise NonFiniteError("loss", f"component(s) {', '.join(names) or '?'} not finite with finite inputs")
