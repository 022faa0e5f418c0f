"""How much a ranker can gain over sorting by the SNR estimate on the benchmark's test set, without
training: the detectable-signal tau of untrained rankers side by side.

    .venv/bin/python benchmarks/label_headroom.py [--scenarios 10000]

- ``snr_estimate``: what a search reports (the baseline PriorityNet must beat).
- ``effective_snr(estimates)``: the label's own overlap formula applied to the estimates
  (``benchmark.formula_ranker``, ``observation.effective_snr_estimate``) -- a hand-written ranker that knows how the labels were made; the headroom that
  overlaps leave for a learned model.
- ``true snr``: the true network SNR (not observable); it ignores overlaps entirely.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ahsd_train.engine import benchmark as bm
from ahsd_train.review.bench import project_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = project_config()
    pn = cfg.priority_net.model_copy(update={"use_strain": False})
    test = bm.test_set(cfg.model_copy(update={"priority_net": pn}), args.scenarios)
    rho = test.snr_estimate.double()
    snr_side = bm.per_scenario(rho, test)
    print(f"{'ranker':28s} {'tau_detectable':>15s} {'paired gain vs SNR-sort (95% CI)':>36s} {'pair acc.':>10s}")
    for name, score in (("snr_estimate", rho), ("effective_snr(estimates)", bm.formula_ranker(test)),
                        ("true snr", test.snr.double())):
        table = bm.ranking_table(bm.per_scenario(score, test), snr_side)
        tau, pair = table["tau_detectable"], table["pair_accuracy"]["model"]["estimate"]
        lo, hi = tau["gain"]["ci95"]
        print(f"{name:28s} {tau['model']['estimate']:15.3f} {tau['gain']['estimate']:+18.3f} [{lo:+.3f}, {hi:+.3f}] {pair:10.3f}")
    print(f"({args.scenarios} test scenarios, {int(np.sum(~np.isnan(snr_side.tau)))} with >= 2 detectable signals)")


if __name__ == "__main__":
    main()
