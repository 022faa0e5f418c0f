"""How much of each source class's SNR^2 a strain window holds (the physics generator's window choice).

    .venv/bin/python benchmarks/physics_window.py        # needs the [physics] extra

One noise-free signal at 100 Mpc (face-on, non-spinning, ra 1, dec 0.3) through
``scenario.simulate`` for each window; printed: the share of its optimal SNR^2 (20-1024 Hz) that
lies in the whitened window, mean over H1/L1/V1 (markdown).
"""

from __future__ import annotations

import numpy as np

from ahsd_train.engine.physics import scenario as sc

SYSTEMS = {"BNS 1.1+1.1": (1.1, 1.1), "BNS 1.4+1.4": (1.4, 1.4), "NSBH 10+1.4": (10.0, 1.4), "BBH 5+5": (5.0, 5.0),
           "BBH 30+30": (30.0, 30.0)}
WINDOWS = [(4.0, 512), (8.0, 256), (16.0, 128), (8.0, 512), (16.0, 512), (64.0, 512)]


class NoNoise:
    def standard_normal(self, n: int) -> np.ndarray:
        return np.zeros(n)


def share(m1: float, m2: float, window: sc.Window) -> float:
    p = {k: np.array([v]) for k, v in dict(mass_1=m1, mass_2=m2, chi_1=0.0, chi_2=0.0, luminosity_distance=100.0,
                                           theta_jn=0.0, phase=0.0, ra=1.0, dec=0.3, psi=0.0, geocent_time=2.0).items()}
    ph = sc.simulate(p, 4.0, 20.0, NoNoise(), window)
    return float(((ph.strain[0].astype(np.float64) ** 2).sum(-1) / ph.rho_det[0] ** 2).mean())


def main() -> None:
    print("| window | samples | " + " | ".join(SYSTEMS) + " |")
    print("|---|---|" + "---|" * len(SYSTEMS))
    for seconds, rate in WINDOWS:
        w = sc.Window(seconds, rate)
        row = " | ".join(f"{share(m1, m2, w):.2f}" for m1, m2 in SYSTEMS.values())
        print(f"| {seconds:g} s at {rate} Hz | {w.samples:,} | {row} |")


if __name__ == "__main__":
    main()
