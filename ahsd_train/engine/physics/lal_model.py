"""The detector network and the waveform model, from LALSuite (nothing hand-written here).

- **Waveform**: ``IMRPhenomXAS`` (Pratten et al. 2020, arXiv:2001.11412), LALSimulation's
  frequency-domain inspiral-merger-ringdown model of the dominant (2, 2) mode for aligned spins --
  the spins this project draws (``chi_1``, ``chi_2`` along the orbital angular momentum). Calibrated
  to numerical relativity up to mass ratio 18 and to the extreme-mass-ratio limit beyond, so the
  NSBH draws (q up to ~90) stay in its domain; faster than IMRPhenomD here (2.3 vs 8.6 ms for a
  30+30 Msun system on 16 s, 78 vs 108 ms for a 1.1+1.1 Msun one on 256 s). No tides: the neutron
  stars are point particles.
- **Detectors**: LIGO Hanford (H1), LIGO Livingston (L1), Virgo (V1) from ``lal.cached_detector_by_prefix``;
  antenna patterns ``lal.ComputeDetAMResponse`` at the Greenwich sidereal time of the merger, arrival
  times ``lal.TimeDelayFromEarthCenter``.
- **Noise**: the design PSDs shipped with LALSimulation: aLIGO design, T1800044 (H1, L1) and
  Advanced Virgo design, P1200087 (V1).

Conventions: frequency series on ``f_k = k df`` up to ``F_HIGH``; ``h(f)`` in LAL's continuous
Fourier convention (strain / Hz), so the noise-weighted inner product is
``<a, b> = 4 df Re sum a conj(b) / S`` over ``f >= f_low``.
"""

from __future__ import annotations

import functools
import math

import lal
import lalsimulation as ls
import numpy as np

DETECTORS = ("H1", "L1", "V1")
PSD_NAMES = {"H1": "SimNoisePSDaLIGODesignSensitivityT1800044", "L1": "SimNoisePSDaLIGODesignSensitivityT1800044",
             "V1": "SimNoisePSDAdVDesignSensitivityP1200087"}
APPROXIMANT = "IMRPhenomXAS"
F_HIGH = 1024.0  # Hz: the upper end of every SNR integral (the config's f_high); above it the shot noise rises as f^2
GPS_EPOCH = 1_000_000_000.0  # GPS time of the scenario segment's start (right ascensions are uniform: any epoch will do)
MPC_SI = 1e6 * lal.PC_SI


def n_bins(df: float) -> int:
    """Frequency bins ``0 .. F_HIGH`` at spacing ``df``."""
    return int(round(F_HIGH / df)) + 1


@functools.lru_cache(maxsize=16)
def psd(detector: str, df: float, f_low: float) -> np.ndarray:
    """One-sided PSD ``(n_bins,)`` (1/Hz); ``inf`` below ``f_low`` (no signal is counted there)."""
    n = n_bins(df)
    series = lal.CreateREAL8FrequencySeries("psd", 0, 0.0, df, lal.DimensionlessUnit, n)
    getattr(ls, PSD_NAMES[detector])(series, f_low)
    s = np.array(series.data.data, dtype=np.float64)
    f = np.arange(n) * df
    s[(f < f_low) | ~(s > 0)] = np.inf
    s.setflags(write=False)
    return s


def duration_bound(m1: float, m2: float, chi1: float, chi2: float, f_low: float) -> float:
    """Seconds from ``f_low`` through merger and ringdown (LALSimulation's upper bounds)."""
    m1_si, m2_si = m1 * lal.MSUN_SI, m2 * lal.MSUN_SI
    chirp = ls.SimInspiralChirpTimeBound(f_low, m1_si, m2_si, chi1, chi2)
    merge = ls.SimInspiralMergeTimeBound(m1_si, m2_si)
    ring = ls.SimInspiralRingdownTimeBound(m1_si + m2_si, max(abs(chi1), abs(chi2)))
    return chirp + merge + ring


def polarisations(m1: float, m2: float, chi1: float, chi2: float, distance_mpc: float, iota: float, phase: float,
                  df: float, f_low: float) -> tuple[np.ndarray, np.ndarray]:
    """``h+(f), hx(f)`` ``(n_bins,)`` complex, coalescence at t = 0 (a factor ``exp(-2 pi i f t)``
    moves it to ``t``)."""
    hp, hc = ls.SimInspiralChooseFDWaveform(
        m1 * lal.MSUN_SI, m2 * lal.MSUN_SI, 0.0, 0.0, chi1, 0.0, 0.0, chi2, distance_mpc * MPC_SI, iota, phase,
        0.0, 0.0, 0.0, df, f_low, F_HIGH, f_low, None, ls.GetApproximantFromString(APPROXIMANT))
    n = n_bins(df)
    out = []
    for h in (hp, hc):
        a = np.zeros(n, dtype=np.complex128)
        k = min(n, h.data.length)
        a[:k] = h.data.data[:k]
        out.append(a)
    return out[0], out[1]


def response(detector: str, ra: float, dec: float, psi: float, t_geocent: float) -> tuple[float, float, float]:
    """``(F+, Fx, delay)``: antenna pattern and arrival time after the geocentre (s) for a source
    at ``(ra, dec)`` with polarisation angle ``psi`` merging at ``GPS_EPOCH + t_geocent``."""
    det = lal.cached_detector_by_prefix[detector]
    gps = GPS_EPOCH + t_geocent
    gmst = lal.GreenwichMeanSiderealTime(lal.LIGOTimeGPS(gps))
    f_plus, f_cross = lal.ComputeDetAMResponse(det.response, ra, dec, psi, gmst)
    delay = lal.TimeDelayFromEarthCenter(det.location, ra, dec, lal.LIGOTimeGPS(gps))
    return float(f_plus), float(f_cross), float(delay)


def shift(f: np.ndarray, t: float) -> np.ndarray:
    """``exp(-2 pi i f t)``: a frequency series' time origin moved to ``t``."""
    return np.exp(-2j * math.pi * f * t)
