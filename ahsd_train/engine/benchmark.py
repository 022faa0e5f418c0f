"""The PriorityNet benchmark: a fixed test set, detectable-signal ranking metrics with bootstrap
confidence intervals, the paired gain over sorting by the SNR estimate, and calibrated pairwise
probabilities.

Definitions (the README states the same):

- **Test set**: ``data.synthetic.test_scenarios`` scenarios from their own seed (``TEST_SEED``, plus
  ``data.synthetic.seed_offset``), generated in chunks of ``TEST_CHUNK`` (chunk k uses seed + k); the
  same whatever the training data, ``random_seed`` or schedule, so runs are compared on one test set.
- **Detectable**: a signal whose label is > 0 (effective SNR >= 8). ``tau_detectable``: Kendall tau-b
  among a scenario's detectable signals, averaged over scenarios with >= 2 of them (their labels are
  continuous, so label ties do not occur there; prediction ties count as tau-b counts them).
- **Untied pairs**: two signals of one scenario whose labels differ by more than ``metrics.TIE`` (two
  undetectable signals, both labelled 0, are a tie and excluded). ``pair_accuracy*``: over untied pairs
  pooled per size bucket (2, 3-4, 5+ signals); a prediction tie scores 1/2.
- **top1**: over scenarios with >= 2 signals and >= 1 detectable one, the top prediction has the top label.
- **CI**: percentile bootstrap over test scenarios (``N_BOOTSTRAP`` resamples, fixed seed); a paired
  difference resamples the same scenarios for both rankers.
- **Pairwise probability**: ``P(i outranks j) = sigmoid((s_i - s_j) / T)`` with the temperature T fitted
  on the validation split (negative log-likelihood over its untied pairs). Scored on the test split's
  untied pairs, each oriented by the prediction (outcome: "the predicted order is right"): Brier,
  ECE (``ECE_BINS`` equal-width bins), and AUROC of ``1 - p`` for detecting mis-ordered pairs (a
  prediction tie counts as mis-ordered). Constant baseline: every pair gets the validation pairwise
  accuracy as its probability (Brier ``a (1 - a)`` in expectation; AUROC 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import optimize, special, stats

from ahsd_train.engine import metrics as mt
from ahsd_train.engine import observation as obs
from ahsd_train.engine.data import ScenarioBatch, SyntheticScenarioSource

TEST_SEED = 1_000_423  # the test set's seed (+ chunk index) for every config and training seed
EPOCH_SEED_STRIDE = 7919  # epoch e > 0 trains on scenarios from random_seed + this x e
TEST_CHUNK = 2048  # scenarios generated at once (bounds the strain's memory)
QUICK_TEST_SCENARIOS = 1000
N_BOOTSTRAP = 2000
BOOTSTRAP_SEED = 12345
BOOTSTRAP_CHUNK = 250  # resamples per vectorised draw
ECE_BINS = 10
BUCKETS = {"2": (2, 2), "3_4": (3, 4), "5plus": (5, 10**6)}


# === data =========================================================================================


def test_set(config, n: int, device: torch.device | str = "cpu") -> ScenarioBatch:
    """``n`` test scenarios from the test seed (independent of the training data)."""
    parts = []
    for k, start in enumerate(range(0, n, TEST_CHUNK)):
        src = SyntheticScenarioSource(config.data, config.priority_net, TEST_SEED + k, device)
        parts.append(src.generate(min(TEST_CHUNK, n - start)))
    return concat(parts)


def fresh_training_scenarios(config, n: int, epoch: int, device: torch.device | str = "cpu") -> ScenarioBatch:
    """Epoch ``epoch``'s training scenarios (``data.synthetic.fresh_each_epoch``): a pure function of
    (seed, epoch), so a resumed run sees the ones an uninterrupted run would."""
    seed = config.random_seed + EPOCH_SEED_STRIDE * epoch
    return SyntheticScenarioSource(config.data, config.priority_net, seed, device).generate(n)


def concat(parts: list[ScenarioBatch]) -> ScenarioBatch:
    """Scenarios of several batches in one, padded to the widest."""
    width = max(p.features.shape[1] for p in parts)
    parts = [p.pad(width) for p in parts]
    names = parts[0].tensors().keys()
    return ScenarioBatch(**{k: torch.cat([p.tensors()[k] for p in parts]) for k in names})


@torch.no_grad()
def predict(model, data: ScenarioBatch, autocast, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Priority and uncertainty ``(B, S)`` of ``data`` in eval mode, in chunks."""
    was_training = model.training
    model.eval()
    width = data.features.shape[1]
    pred, unc = [], []
    for start in range(0, len(data), chunk):
        part = data.slice(slice(start, start + chunk))
        with autocast():
            out = model(part)
        pred.append(torch.nn.functional.pad(out.priority.float(), (0, width - out.priority.shape[1])))
        unc.append(torch.nn.functional.pad(out.uncertainty.float(), (0, width - out.uncertainty.shape[1])))
    model.train(was_training)
    return torch.cat(pred), torch.cat(unc)


# === per-scenario statistics ======================================================================


@dataclass
class PerScenario:
    """Per-scenario numbers (numpy ``(B,)``) that the bootstrap resamples."""

    tau: np.ndarray  # Kendall tau-b over detectable signals; nan where undefined
    correct: dict[str, np.ndarray]  # bucket -> correctly ordered untied pairs (ties 1/2)
    count: dict[str, np.ndarray]  # bucket -> untied pairs
    top1: np.ndarray  # 1/0, nan where undefined


def per_scenario(score: torch.Tensor, batch: ScenarioBatch) -> PerScenario:
    score, y, mask = score.detach().double().cpu(), batch.priority.double().cpu(), batch.mask.cpu()
    n = mask.sum(-1)  # (B,)
    det = mask & (y > 0)
    tau, ok = mt._kendall(score, y, det)
    tau = torch.where(ok & (det.sum(-1) >= 2), tau, torch.nan)
    dy = y.unsqueeze(-1) - y.unsqueeze(-2)  # (B, S, S)
    ds = score.unsqueeze(-1) - score.unsqueeze(-2)
    pairs = mask.unsqueeze(-1) & mask.unsqueeze(-2) & (dy > mt.TIE)  # i above j, each pair once
    right = torch.where(ds.abs() <= mt.TIE, 0.5, (ds > 0).double()) * pairs
    correct, count = {}, {}
    for name, (lo, hi) in {"all": (2, 10**6), **BUCKETS}.items():
        sel = ((n >= lo) & (n <= hi)).double()
        correct[name] = (right.sum((-1, -2)) * sel).numpy()
        count[name] = (pairs.sum((-1, -2)) * sel).numpy()
    neg = torch.tensor(-torch.inf, dtype=score.dtype)
    best = torch.where(mask, score, neg).argmax(-1)
    y_max = torch.where(mask, y, neg).amax(-1)
    hit = (y.gather(-1, best.unsqueeze(-1)).squeeze(-1) >= y_max - mt.TIE).double()
    top1 = torch.where((n >= 2) & (y_max > 0), hit, torch.nan)
    return PerScenario(tau.numpy(), correct, count, top1.numpy())


# === bootstrap ====================================================================================


def bootstrap_ci(stat, n: int, n_boot: int = N_BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> list[float]:
    """Percentile 95 % interval of ``stat(idx)`` where ``idx (R, n)`` resamples scenarios with
    replacement; ``stat`` returns ``(R,)``. Vectorised in chunks of ``BOOTSTRAP_CHUNK`` resamples."""
    rng = np.random.default_rng(seed)
    values = []
    for start in range(0, n_boot, BOOTSTRAP_CHUNK):
        idx = rng.integers(0, n, size=(min(BOOTSTRAP_CHUNK, n_boot - start), n))
        values.append(stat(idx))
    lo, hi = np.nanpercentile(np.concatenate(values), [2.5, 97.5])
    return [float(lo), float(hi)]


def _mean(x: np.ndarray):
    """(point, stat) for the mean over defined (non-nan) scenarios."""
    ok = ~np.isnan(x)
    v, w = np.where(ok, x, 0.0), ok.astype(float)
    return float(v.sum() / max(w.sum(), 1)), lambda idx: v[idx].sum(1) / np.maximum(w[idx].sum(1), 1)


def _ratio(num: np.ndarray, den: np.ndarray):
    return float(num.sum() / max(den.sum(), 1)), lambda idx: num[idx].sum(1) / np.maximum(den[idx].sum(1), 1)


def _paired(a, b):
    """(point, stat) of a - b where a, b are (point, stat) pairs on the same resamples."""
    return a[0] - b[0], lambda idx: a[1](idx) - b[1](idx)


def with_ci(point_stat, n: int) -> dict[str, object]:
    point, stat = point_stat
    return {"estimate": point, "ci95": bootstrap_ci(stat, n)}


def ranking_table(model_s: PerScenario, snr_s: PerScenario) -> dict[str, dict]:
    """Each metric for the model, SNR-sort and their paired difference, with 95 % CIs."""
    n = len(model_s.tau)
    out = {}
    both_tau = ~np.isnan(model_s.tau) & ~np.isnan(snr_s.tau)
    stats_of = {
        "tau_detectable": lambda s: _mean(np.where(both_tau, s.tau, np.nan)),
        "top1_accuracy": lambda s: _mean(s.top1),
        **{f"pair_accuracy{'' if b == 'all' else '_' + b}": (lambda s, b=b: _ratio(s.correct[b], s.count[b]))
           for b in ("all", *BUCKETS)},
    }
    for name, fn in stats_of.items():
        m, b = fn(model_s), fn(snr_s)
        out[name] = {"model": with_ci(m, n), "snr_sort": with_ci(b, n), "gain": with_ci(_paired(m, b), n)}
    return out


def formula_ranker(batch: ScenarioBatch) -> torch.Tensor:
    """``(B, S)`` the second reference ranker: the label's overlap formula applied to the estimates
    (``observation.effective_snr_estimate``), written by hand, untrained. The model's gain over it is
    what training adds beyond knowing how overlaps reduce the SNR."""
    return obs.effective_snr_estimate(batch.features.double(), batch.snr_estimate.double(), batch.mask)


def formula_tau_table(model_s: PerScenario, formula_s: PerScenario) -> dict[str, dict]:
    """Detectable-signal tau of the model and the formula ranker, and the model's paired gain over
    it, on the scenarios where both have a tau."""
    n = len(model_s.tau)
    both = ~np.isnan(model_s.tau) & ~np.isnan(formula_s.tau)
    m, f = _mean(np.where(both, model_s.tau, np.nan)), _mean(np.where(both, formula_s.tau, np.nan))
    return {"model": with_ci(m, n), "formula": with_ci(f, n), "gain": with_ci(_paired(m, f), n)}


# === calibrated pairwise probabilities ============================================================


def untied_pairs(score: torch.Tensor, batch: ScenarioBatch, unc: torch.Tensor | None = None):
    """Score difference ``d`` (oriented so the label says i above j), and ``u_i + u_j`` when given."""
    y, mask = batch.priority.double().cpu(), batch.mask.cpu()
    s = score.detach().double().cpu()
    pairs = mask.unsqueeze(-1) & mask.unsqueeze(-2) & ((y.unsqueeze(-1) - y.unsqueeze(-2)) > mt.TIE)
    d = (s.unsqueeze(-1) - s.unsqueeze(-2))[pairs].numpy()  # > 0: ordered right
    if unc is None:
        return d, None
    u = unc.detach().double().cpu()
    return d, (u.unsqueeze(-1) + u.unsqueeze(-2))[pairs].numpy()


def fit_temperature(d: np.ndarray) -> float:
    """T minimising the NLL of ``sigmoid(d / T)`` for outcomes that are all "i above j" (d oriented)."""
    nll = lambda log_t: float(-special.log_expit(d / math.exp(log_t)).mean())  # noqa: E731
    res = optimize.minimize_scalar(nll, bounds=(math.log(1e-6), math.log(1e3)), method="bounded")
    return math.exp(res.x)


def pair_probabilities(d: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """Each pair oriented by the prediction: ``p`` = P(predicted order right), outcome 1/0."""
    p = special.expit(np.abs(d) / temperature)
    return p, (d > mt.TIE).astype(float)  # a prediction tie is not a right order


def ece(p: np.ndarray, outcome: np.ndarray, n_bins: int = ECE_BINS) -> float:
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    gap = np.abs(np.bincount(bins, p, n_bins) - np.bincount(bins, outcome, n_bins))
    return float(gap.sum() / max(count.sum(), 1))


def auroc(score: np.ndarray, positive: np.ndarray) -> float:
    """AUROC of ``score`` for ``positive`` (Mann-Whitney U / n1 n0; ties count 1/2)."""
    pos, neg = score[positive], score[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    return float(stats.mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg)))


def pair_calibration(d_val: np.ndarray, d_test: np.ndarray, u_test: np.ndarray | None = None) -> dict[str, float]:
    temperature = fit_temperature(d_val)
    p, right = pair_probabilities(d_test, temperature)
    base = float((d_val > mt.TIE).mean())  # the constant predictor: validation pairwise accuracy
    wrong = right == 0
    out = {
        "pair_temperature": temperature,
        "pair_brier": float(((p - right) ** 2).mean()),
        "constant_pair_brier": float(((base - right) ** 2).mean()),
        "pair_ece": ece(p, right),
        "pair_auroc_misordered": auroc(1 - p, wrong),
        "n_test_pairs": int(len(d_test)),
    }
    if u_test is not None:
        out["uncertainty_head_auroc_misordered"] = auroc(u_test, wrong)
    return out


# === everything ===================================================================================


def benchmark_metrics(pred_val, val: ScenarioBatch, pred_test, test: ScenarioBatch, unc_test=None) -> dict:
    """The report's benchmark metrics (flat contract keys) plus ``benchmark`` (every CI)."""
    model_s, snr_s = per_scenario(pred_test, test), per_scenario(test.snr_estimate, test)
    table = ranking_table(model_s, snr_s)
    d_val, _ = untied_pairs(pred_val, val)
    d_test, u_test = untied_pairs(pred_test, test, unc_test)
    calib = pair_calibration(d_val, d_test, u_test)
    snr_calib = pair_calibration(untied_pairs(val.snr_estimate.log(), val)[0], untied_pairs(test.snr_estimate.log(), test)[0])
    tau = table["tau_detectable"]
    formula = formula_tau_table(model_s, per_scenario(formula_ranker(test), test))
    return {
        "tau_detectable": tau["model"]["estimate"],
        "snr_baseline_tau_detectable": tau["snr_sort"]["estimate"],
        "gain_vs_snr": tau["gain"],
        "effective_snr_baseline_tau_detectable": formula["formula"]["estimate"],
        "gain_vs_effective_snr": formula["gain"],
        **{k: calib[k] for k in ("pair_brier", "constant_pair_brier", "pair_auroc_misordered", "pair_ece")},
        "n_test_scenarios": len(test),
        "benchmark": {"ranking": table, "effective_snr_ranking": {"tau_detectable": formula}, "pair_probability": calib, "snr_sort_pair_probability": snr_calib,
                      "n_tau_scenarios": int((~np.isnan(model_s.tau) & ~np.isnan(snr_s.tau)).sum()),
                      "n_bootstrap": N_BOOTSTRAP},
    }


def benchmark_of_model(model, val: ScenarioBatch, test: ScenarioBatch, autocast) -> dict:
    """``benchmark_metrics`` of ``model``'s predictions on the validation and test splits."""
    pred_val, _ = predict(model, val, autocast)
    pred_test, unc_test = predict(model, test, autocast)
    return benchmark_metrics(pred_val, val, pred_test, test, unc_test)
