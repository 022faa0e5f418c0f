"""One scenario's physics: every signal in one data stream per detector, in design-PSD noise.

For a scenario of ``n`` signals the stream is ``L`` seconds long (the next power of two that holds
the longest signal from ``f_low`` plus the segment and a margin), on frequencies ``0 .. F_HIGH`` at
``df = 1 / L``. Signal ``i`` merges at ``t_offset + geocent_time_i`` (plus each detector's delay).
Per detector ``k`` the data are ``d_k = sum_i H_ik + n_k`` with ``n_k`` complex Gaussian noise of
the design PSD. From it:

- ``rho_det[i, k] = sqrt(<H_ik, H_ik>)``: the optimal SNR;
- ``snr_hat[i]``: the matched filter of the true template on the data, phase-maximised per
  detector, ``sqrt(sum_k |<d_k, H_ik>_c|^2 / <H_ik, H_ik>)`` -- noise and every partner's
  cross-talk included, the way a search's filter sees them (no maximisation over time or templates);
- ``overlap[i, j] = |sum_k <H_ik, H_jk>_c| / (rho_i rho_j)``: the physical (noise-weighted,
  network) overlap of two signals at their true times, the quantity the label's subtraction
  residual scales with;
- ``strain[i]`` ``(D, T)``: the whitened data (``d / ASD``, unit variance per sample for noise
  alone) at ``window.rate`` in the ``window.seconds`` window that ends ``window.after_merger``
  after signal ``i``'s geocentric merger.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import lal_model as lm

MARGIN_SECONDS = 2.0


@dataclass(frozen=True)
class Window:
    """The strain encoder's input window: ``seconds`` at ``rate`` Hz, ending ``after_merger`` s after it.

    The default, 4 s at 512 Hz (2048 samples), is the window of 2048 samples that holds the most of
    every class's SNR^2 (README "Physics data": 28-35 % for a BNS, 67 % for a 10+1.4 NSBH, 77-94 % for
    BBHs; 8 s at 256 Hz or 16 s at 128 Hz hold less). A BNS lasts 160-240 s from 20 Hz: holding 80 %
    of its SNR^2 takes 64 s at 512 Hz, 16x the samples (and the strain encoder's compute)."""

    seconds: float = 4.0
    rate: int = 512
    after_merger: float = 0.5  # s of ringdown and post-merger noise in the window

    @property
    def samples(self) -> int:
        return int(round(self.seconds * self.rate))

    def problem(self, f_low: float) -> str | None:
        """Why this window cannot be used (``None`` when it can)."""
        if not 64 <= self.seconds * self.rate <= 2**24:  # also nan and inf (`--window-seconds 1e308`)
            return f"--window-seconds x --window-rate = {self.seconds * self.rate:g} samples; it must be a whole number in [64, {2**24}]"
        if abs(self.seconds * self.rate - self.samples) > 1e-9:
            return f"--window-seconds x --window-rate = {self.seconds * self.rate:g} samples; it must be a whole number >= 64"
        if not f_low < self.rate / 2 <= lm.F_HIGH:
            return f"--window-rate {self.rate} Hz: its Nyquist frequency must lie in ({f_low:g}, {lm.F_HIGH:g}] Hz"
        if self.seconds <= self.after_merger:
            return f"--window-seconds {self.seconds:g} must exceed the {self.after_merger:g} s kept after the merger"
        return None


@dataclass
class ScenarioPhysics:
    rho_det: np.ndarray  # (n, D) optimal SNR per detector
    snr_hat: np.ndarray  # (n,) network matched-filter SNR on the noisy data
    overlap: np.ndarray  # (n, n) physical overlap, 0 on the diagonal
    strain: np.ndarray  # (n, D, T) float32 whitened windows


def stream_seconds(durations: list[float], segment: float, window: Window) -> float:
    """The stream length ``L`` (s): a power of two holding the longest signal, the segment and margins."""
    need = max(durations) + segment + MARGIN_SECONDS + window.seconds
    return float(2 ** math.ceil(math.log2(need)))


def simulate(params: dict[str, np.ndarray], segment: float, f_low: float, rng: np.random.Generator,
             window: Window = Window()) -> ScenarioPhysics:
    """``params``: name -> ``(n,)`` true parameters of one scenario's signals (``data`` names)."""
    n = len(params["mass_1"])
    dets = lm.DETECTORS
    D, T = len(dets), window.samples
    args = [(float(params["mass_1"][i]), float(params["mass_2"][i]), float(params["chi_1"][i]), float(params["chi_2"][i]))
            for i in range(n)]
    L = stream_seconds([lm.duration_bound(*a, f_low) for a in args], segment, window)
    df = 1.0 / L
    f = np.arange(lm.n_bins(df)) * df
    t_offset = L - segment - window.after_merger - MARGIN_SECONDS / 2  # merger times lie in [t_offset, t_offset + segment]
    pols = [lm.polarisations(*args[i], float(params["luminosity_distance"][i]), float(params["theta_jn"][i]),
                             float(params["phase"][i]), df, f_low) for i in range(n)]
    rho_det = np.zeros((n, D))
    z = np.zeros((n, D), dtype=np.complex128)
    cross = np.zeros((n, n), dtype=np.complex128)
    strain = np.zeros((n, D, T), dtype=np.float32)
    band_w = (f >= f_low) & (f <= window.rate / 2)
    for k, det in enumerate(dets):
        s = lm.psd(det, df, f_low)  # (F,)
        w = 4.0 * df / s  # inner-product weights, 0 where S is inf
        h = np.zeros((n, len(f)), dtype=np.complex128)  # (n, F) detector-frame signals
        for i, (hp, hc) in enumerate(pols):
            fp, fc, delay = lm.response(det, float(params["ra"][i]), float(params["dec"][i]), float(params["psi"][i]),
                                        float(params["geocent_time"][i]))
            h[i] = (fp * hp + fc * hc) * lm.shift(f, t_offset + float(params["geocent_time"][i]) + delay)
        noise = np.sqrt(np.where(np.isfinite(s), s, 0.0) / (4 * df)) * (rng.standard_normal(len(f)) + 1j * rng.standard_normal(len(f)))
        d = h.sum(0) + noise  # (F,)
        hw = h * w  # (n, F)
        rho_det[:, k] = np.sqrt(np.einsum("if,if->i", hw, h.conj()).real)
        z[:, k] = hw.conj() @ d  # <d, H_i>, complex
        cross += hw @ h.conj().T  # <H_i, H_j>, complex, summed over detectors
        strain[:, k] = _windows(d, s, band_w, L, t_offset + np.asarray(params["geocent_time"], dtype=np.float64), window)
    sigma = np.where(rho_det > 0, rho_det, np.inf)
    snr_hat = np.sqrt((np.abs(z) ** 2 / sigma**2).sum(-1))
    rho = np.sqrt((rho_det**2).sum(-1))
    norm = np.outer(rho, rho)
    overlap = np.where(norm > 0, np.abs(cross) / np.where(norm > 0, norm, 1.0), 0.0)
    np.fill_diagonal(overlap, 0.0)
    return ScenarioPhysics(rho_det, snr_hat, overlap.clip(0.0, 1.0), strain)


def _windows(d: np.ndarray, s: np.ndarray, band: np.ndarray, L: float, merger: np.ndarray, window: Window) -> np.ndarray:
    """Whitened windows ``(n, T)`` around each merger time ``(n,)`` (s in the stream).

    ``d / ASD`` in LAL's convention has one-sided PSD 1; at sample spacing ``dt`` a white series of
    PSD 1 has variance ``1 / (2 dt)``, so ``x = irfft(d / ASD / dt) * sqrt(2 dt)`` has unit variance,
    and ``sum x^2`` of a signal alone is its band-limited ``<h, h>``."""
    dt = 1.0 / window.rate
    nw = int(round(L * window.rate))
    keep = nw // 2 + 1
    white = np.zeros(keep, dtype=np.complex128)
    sel = band[:keep]
    white[sel] = d[:keep][sel] / np.sqrt(s[:keep][sel])
    x = np.fft.irfft(white / dt * math.sqrt(2 * dt), n=nw)  # (nw,)
    T = window.samples
    end = np.round((merger + window.after_merger) * window.rate).astype(np.int64)
    idx = end[:, None] - T + np.arange(T)[None, :]  # (n, T)
    return x[idx % nw].astype(np.float32)
