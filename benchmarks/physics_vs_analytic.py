"""The analytic generator checked against the physics one on the same signals.

    ahsd-train data generate --physics --scenarios 2000 --out DIR      # the [physics] extra
    .venv/bin/python benchmarks/physics_vs_analytic.py --data DIR

The physics dataset's ``generate.json`` names its seed and size; the analytic generator draws the
same population from them (``SyntheticScenarioSource.population``), so signal i is the same binary
in both. Printed (markdown):

- network SNR quantiles per source class: analytic (its configured ``strain_detectors``, and with
  3 detectors like H1/L1/V1) vs physics (IMRPhenomXAS, design PSDs; optimal SNR);
- ordering agreement: Kendall tau-b between the two SNR sets over all signals and per class, and the
  fraction of same-scenario signal pairs whose SNR order agrees (what a ranking sees);
- what overlaps do to the labels: signals whose label is lowered by > 1 % by louder overlapping
  partners, and sorting by the SNR estimate / the true SNR against the labels (detectable-signal tau
  with its bootstrap CI), per generator.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from ahsd_train.engine import benchmark as bm
from ahsd_train.review.bench import project_config
from ahsd_train.engine.data import SyntheticScenarioSource, priority_labels
from ahsd_train.engine.shards import read_shards

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def classes(p: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Source class from the masses (BNS: both < 5 Msun; NSBH: the lighter one; BBH: neither)."""
    m1, m2 = p["mass_1"], p["mass_2"]
    return {"BBH": m2 >= 5, "NSBH": (m1 >= 5) & (m2 < 5), "BNS": m1 < 5, "all": torch.ones_like(m1, dtype=torch.bool)}


def pair_agreement(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    """Fraction of same-scenario signal pairs that ``a`` and ``b`` order the same way."""
    da, db = a.unsqueeze(-1) - a.unsqueeze(-2), b.unsqueeze(-1) - b.unsqueeze(-2)
    pairs = mask.unsqueeze(-1) & mask.unsqueeze(-2) & torch.triu(torch.ones(a.shape[-1], a.shape[-1], dtype=torch.bool), 1)
    return float(((da * db > 0) & pairs).sum() / pairs.sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a dataset written by `data generate --physics`")
    args = parser.parse_args()
    torch.set_num_threads(1)
    plan = json.loads((args.data / "generate.json").read_text())
    cfg = project_config()
    if plan["data"] != cfg.data.model_dump(mode="json"):
        print(f"{args.data}: made with another data section than the project config's; cannot redraw its population", file=sys.stderr)
        return 2
    seed, n = plan["seed"], plan["n_scenarios"]
    phys = read_shards(args.data)
    pn = cfg.priority_net.model_copy(update={"use_strain": False})
    d3 = cfg.data.model_copy(update={"synthetic": cfg.data.synthetic.model_copy(update={"strain_detectors": 3})})
    ana = SyntheticScenarioSource(cfg.data, pn, seed).generate(n)
    ana3 = SyntheticScenarioSource(d3, pn, seed).generate(n)
    src = SyntheticScenarioSource(cfg.data, pn, seed)
    p = src.population(n, torch.Generator().manual_seed(src.seed)).p
    S = phys.mask.shape[1]
    assert torch.equal(phys.mask, ana.mask[:, :S]), "the populations differ"
    mask = phys.mask
    p = {k: v[:, :S] for k, v in p.items()}
    snr = {"analytic (D=%d)" % cfg.data.synthetic.strain_detectors: ana.snr[:, :S].double(),
           "analytic (D=3)": ana3.snr[:, :S].double(), "physics (H1, L1, V1)": phys.snr.double()}
    print(f"{n} scenarios, {int(mask.sum())} signals, seed {seed} ({args.data})\n")
    print("| class | signals | generator | SNR 5 % | 25 % | 50 % | 75 % | 95 % | detectable (label > 0) |")
    print("|---|---|---|---|---|---|---|---|---|")
    labels = {"analytic (D=%d)" % cfg.data.synthetic.strain_detectors: ana.priority[:, :S], "analytic (D=3)": ana3.priority[:, :S],
              "physics (H1, L1, V1)": phys.priority}
    for cls, sel in classes(p).items():
        sel = sel & mask
        if int(sel.sum()) < 2:  # a tiny dataset may lack a class
            continue
        for name, s in snr.items():
            q = np.quantile(s[sel].numpy(), QUANTILES)
            det = float((labels[name][sel] > 0).double().mean())
            print(f"| {cls} | {int(sel.sum())} | {name} | " + " | ".join(f"{v:.1f}" for v in q) + f" | {det:.3f} |")
    print("\n| class | Kendall tau-b, analytic (D=3) vs physics SNR | median physics / analytic (D=3) |")
    print("|---|---|---|")
    a3, ph = snr["analytic (D=3)"], snr["physics (H1, L1, V1)"]
    for cls, sel in classes(p).items():
        sel = sel & mask
        if int(sel.sum()) < 2:
            continue
        tau = stats.kendalltau(a3[sel].numpy(), ph[sel].numpy()).statistic
        print(f"| {cls} | {tau:.3f} | {float(torch.median(ph[sel] / a3[sel])):.2f} |")
    print(f"\nsame-scenario pairs ordered alike by the two SNRs: {pair_agreement(a3, ph, mask):.3f} "
          f"(analytic D={cfg.data.synthetic.strain_detectors}: {pair_agreement(snr[next(iter(snr))], ph, mask):.3f})\n")
    q = p["mass_1"] / p["mass_2"]
    chi = torch.maximum(p["chi_1"].abs(), p["chi_2"].abs())
    print("| generator | labels lowered > 1 % by overlaps | SNR-estimate sort, tau detectable (95 % CI) | true-SNR sort | scenarios with >= 2 detectable |")
    print("|---|---|---|---|---|")
    for name, batch in (("analytic (D=3)", ana3), ("physics (H1, L1, V1)", phys)):
        batch = batch.slice(slice(0, n)).pad(S).trim(S)
        alone = priority_labels(batch.snr.double(), q, chi)
        lowered = float(((batch.priority.double() < 0.99 * alone) & mask).sum() / mask.sum())
        est = bm.per_scenario(batch.snr_estimate.double(), batch)
        true = bm.per_scenario(batch.snr.double(), batch)
        t = bm.ranking_table(est, est)["tau_detectable"]["model"]
        tt = bm.ranking_table(true, est)["tau_detectable"]
        lo, hi = t["ci95"]
        g = tt["gain"]
        print(f"| {name} | {lowered:.3f} | {t['estimate']:.3f} [{lo:.3f}, {hi:.3f}] | {tt['model']['estimate']:.3f} "
              f"(vs estimate {g['estimate']:+.3f} [{g['ci95'][0]:+.3f}, {g['ci95'][1]:+.3f}]) | {int(np.sum(~np.isnan(est.tau)))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
