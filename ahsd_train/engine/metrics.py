"""Ranking metrics of predicted priorities, and the same metrics for the sort-by-SNR baseline.

All metrics are vectorised over scenarios and pairs with masks (torch), then reduced to floats.

- ``pairwise_accuracy``: over ordered-by-target pairs of signals of one scenario whose targets
  differ (> 1e-6), the fraction the prediction orders the same way (prediction ties count 1/2);
  pooled over pairs; ``_2``, ``_3_4``, ``_5plus`` restrict to scenarios of that many signals.
- ``kendall_tau`` (tau-b) and ``spearman_rho`` (Pearson of average ranks): per scenario, averaged
  over the scenarios where they are defined (2+ signals, neither side constant) — what
  ``scipy.stats.kendalltau`` / ``spearmanr`` give for each scenario.
- ``top1_accuracy``: scenarios of 2+ signals whose top prediction has the top target.
- ``priority_mae``: mean |prediction - target| over signals.
- ``uncertainty_ece``: 10 equal-width bins of predicted uncertainty; sum over bins of
  (bin share) x |mean uncertainty - mean |error||.
- ``snr_baseline_*``: the ranking metrics of predicting with the SNR estimate.
"""

from __future__ import annotations

import math

import torch

TIE = 1e-6
ECE_BINS = 10
RANKING_METRICS = ("kendall_tau", "spearman_rho", "pairwise_accuracy", "pairwise_accuracy_2", "pairwise_accuracy_3_4", "pairwise_accuracy_5plus", "top1_accuracy")


def _nan_mean(x: torch.Tensor, valid: torch.Tensor) -> float:
    count = int(valid.sum())
    return float((x * valid).sum() / count) if count else math.nan


def _pairwise(pred, target, mask, n) -> dict[str, float]:
    dy = target.unsqueeze(-1) - target.unsqueeze(-2)  # (B, S, S) y_i - y_j
    dp = pred.unsqueeze(-1) - pred.unsqueeze(-2)
    pairs = mask.unsqueeze(-1) & mask.unsqueeze(-2) & (dy > TIE)  # (B, S, S) i above j
    score = torch.where(dp.abs() <= TIE, 0.5, (dp > 0).to(pred.dtype))  # (B, S, S)
    out = {}
    for name, sel in (("", n >= 2), ("_2", n == 2), ("_3_4", (n >= 3) & (n <= 4)), ("_5plus", n >= 5)):
        p = pairs & sel[:, None, None]
        count = int(p.sum())
        out["pairwise_accuracy" + name] = float((score * p).sum() / count) if count else math.nan
    return out


def _kendall(pred, target, mask) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-scenario tau-b ``(B,)`` and where it is defined ``(B,)``."""
    S = mask.shape[1]
    upper = torch.triu(torch.ones(S, S, dtype=torch.bool, device=mask.device), diagonal=1)
    pairs = mask.unsqueeze(-1) & mask.unsqueeze(-2) & upper  # (B, S, S) each unordered pair once
    sy = torch.sign(target.unsqueeze(-1) - target.unsqueeze(-2)) * pairs
    sp = torch.sign(pred.unsqueeze(-1) - pred.unsqueeze(-2)) * pairs
    n0 = pairs.sum((-1, -2)).to(pred.dtype)
    n_y, n_p = (sy != 0).sum((-1, -2)).to(pred.dtype), (sp != 0).sum((-1, -2)).to(pred.dtype)  # untied pairs
    denom = torch.sqrt(n_y * n_p)
    valid = (n0 > 0) & (denom > 0)
    return (sy * sp).sum((-1, -2)) / denom.clamp_min(1e-30), valid


def _avg_ranks(x, mask) -> torch.Tensor:
    """Average 1-based ranks within each scenario's real signals ``(B, S)`` (ties share the mean rank)."""
    both = mask.unsqueeze(-1) & mask.unsqueeze(-2)  # (B, S, S)
    less = ((x.unsqueeze(-2) < x.unsqueeze(-1)) & both).sum(-1)  # j with x_j < x_i
    equal = ((x.unsqueeze(-2) == x.unsqueeze(-1)) & both).sum(-1)  # includes i itself
    return less.to(x.dtype) + (equal.to(x.dtype) + 1) / 2


def _spearman(pred, target, mask, n) -> tuple[torch.Tensor, torch.Tensor]:
    mf = mask.to(pred.dtype)
    rp, ry = _avg_ranks(pred, mask) * mf, _avg_ranks(target, mask) * mf
    nf = n.to(pred.dtype).clamp_min(1)
    cp = (rp - (rp.sum(-1) / nf).unsqueeze(-1)) * mf
    cy = (ry - (ry.sum(-1) / nf).unsqueeze(-1)) * mf
    denom = torch.sqrt((cp**2).sum(-1) * (cy**2).sum(-1))
    valid = (n >= 2) & (denom > 1e-12)
    return (cp * cy).sum(-1) / denom.clamp_min(1e-30), valid


def _top1(pred, target, mask, n) -> float:
    neg = torch.tensor(-torch.inf, dtype=pred.dtype, device=pred.device)
    best = torch.where(mask, pred, neg).argmax(-1)  # (B,)
    y_max = torch.where(mask, target, neg).amax(-1)
    hit = target.gather(-1, best.unsqueeze(-1)).squeeze(-1) >= y_max - TIE
    return _nan_mean(hit.to(pred.dtype), n >= 2)


def ranking_metrics(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
    pred, target = pred.detach().double(), target.detach().double()
    n = mask.sum(-1)
    tau, tau_ok = _kendall(pred, target, mask)
    rho, rho_ok = _spearman(pred, target, mask, n)
    return {
        "kendall_tau": _nan_mean(tau, tau_ok),
        "spearman_rho": _nan_mean(rho, rho_ok),
        **_pairwise(pred, target, mask, n),
        "top1_accuracy": _top1(pred, target, mask, n),
    }


def uncertainty_ece(uncertainty: torch.Tensor, error: torch.Tensor, mask: torch.Tensor, n_bins: int = ECE_BINS) -> float:
    u, e = uncertainty.detach().double()[mask], error.detach().double()[mask]  # (N,)
    if u.numel() == 0:
        return math.nan
    lo, hi = float(u.min()), float(u.max())
    bins = ((u - lo) / max(hi - lo, 1e-12) * n_bins).long().clamp(0, n_bins - 1)
    count = torch.bincount(bins, minlength=n_bins).double()
    u_sum = torch.bincount(bins, weights=u, minlength=n_bins)
    e_sum = torch.bincount(bins, weights=e, minlength=n_bins)
    gap = (u_sum - e_sum).abs()  # = count x |mean u - mean e| per bin
    return float(gap.sum() / count.sum())


def evaluate(pred: torch.Tensor, batch, uncertainty: torch.Tensor | None = None) -> dict[str, float]:
    """Metrics of ``pred (B, S)`` on ``batch``; ``snr_baseline_*`` sorts by ``batch.snr_estimate``."""
    mask, target = batch.mask, batch.priority
    out = ranking_metrics(pred, target, mask)
    err = (pred.detach().double() - target.double()).abs()
    out["priority_mae"] = float(err[mask].mean())
    if uncertainty is not None:
        out["uncertainty_ece"] = uncertainty_ece(uncertainty, err, mask)
    base = ranking_metrics(batch.snr_estimate, target, mask)
    out.update({f"snr_baseline_{k}": v for k, v in base.items()})
    return out
