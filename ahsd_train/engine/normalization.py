"""The one place where physical quantities become network inputs and back.

Data, model and overlap features all go through these functions. Log-scaled quantities (masses,
distance, SNR) are inverted with ``exp``, never linearly: the user's overlap analyzer de-normalised
log-distance linearly and fed nonsense distance ratios to the network.

A feature column is normalised as ``(f(x) - center) / scale`` with ``f`` the identity or ``log``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# Columns of ``ScenarioBatch.features`` (estimates of each signal's parameters, as the model sees them).
FEATURE_NAMES: tuple[str, ...] = (
    "mass_1",  # detector-frame primary mass, Msun (>= mass_2)
    "mass_2",  # secondary mass, Msun
    "luminosity_distance",  # Mpc
    "ra",  # rad, [0, 2 pi)
    "dec",  # rad, [-pi/2, pi/2]
    "theta_jn",  # inclination, rad, [0, pi]
    "psi",  # polarisation angle, rad, [0, pi)
    "phase",  # coalescence phase, rad, [0, 2 pi)
    "geocent_time",  # merger time within the segment, s
    "chi_1",  # aligned spin of the primary, [-1, 1]
    "chi_2",  # aligned spin of the secondary, [-1, 1]
    "snr_estimate",  # matched-filter network SNR estimate
)
FEATURE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}


@dataclass(frozen=True)
class Transform:
    log: bool
    center: float
    scale: float


# Centers/scales put the synthetic priors' bulk into roughly [-2, 2].
TRANSFORMS: dict[str, Transform] = {
    "mass_1": Transform(True, math.log(20.0), 1.0),
    "mass_2": Transform(True, math.log(10.0), 1.0),
    "luminosity_distance": Transform(True, math.log(200.0), 1.0),
    "ra": Transform(False, math.pi, math.pi),
    "dec": Transform(False, 0.0, math.pi / 2),
    "theta_jn": Transform(False, math.pi / 2, math.pi / 2),
    "psi": Transform(False, math.pi / 2, math.pi / 2),
    "phase": Transform(False, math.pi, math.pi),
    "geocent_time": Transform(False, 2.0, 2.0),
    "chi_1": Transform(False, 0.0, 1.0),
    "chi_2": Transform(False, 0.0, 1.0),
    "snr_estimate": Transform(True, math.log(12.0), 1.0),
}
# Floors keep log() finite for padded slots and pathological estimates.
LOG_FLOOR = 1e-3


def _columns(names: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    is_log = torch.tensor([TRANSFORMS[n].log for n in names])
    center = torch.tensor([TRANSFORMS[n].center for n in names], dtype=torch.float64)
    scale = torch.tensor([TRANSFORMS[n].scale for n in names], dtype=torch.float64)
    return is_log, center, scale


def normalize(physical: torch.Tensor, names: tuple[str, ...] = FEATURE_NAMES) -> torch.Tensor:
    """Physical values ``(..., F)`` in column order ``names`` -> network inputs ``(..., F)``."""
    is_log, center, scale = (t.to(physical.device) for t in _columns(names))
    x = torch.where(is_log, torch.log(physical.clamp_min(LOG_FLOOR)), physical)  # (..., F)
    return (x - center.to(physical.dtype)) / scale.to(physical.dtype)


def to_physical(features: torch.Tensor, names: tuple[str, ...] = FEATURE_NAMES) -> torch.Tensor:
    """Exact inverse of :func:`normalize` (``exp`` for log-scaled columns)."""
    is_log, center, scale = (t.to(features.device) for t in _columns(names))
    x = features * scale.to(features.dtype) + center.to(features.dtype)  # (..., F)
    return torch.where(is_log, torch.exp(x), x)


def column(features: torch.Tensor, name: str) -> torch.Tensor:
    """One physical column ``(...)`` of normalised ``features (..., F)`` (``FEATURE_NAMES`` order)."""
    t = TRANSFORMS[name]
    x = features[..., FEATURE_INDEX[name]] * t.scale + t.center
    return torch.exp(x) if t.log else x


# --- derived physics (used by the model's physics encoder, the data labels and the overlap features)

MSUN_SECONDS = 4.925490947641267e-06  # G Msun / c^3


def chirp_mass(m1: torch.Tensor, m2: torch.Tensor) -> torch.Tensor:
    return (m1 * m2) ** 0.6 / (m1 + m2) ** 0.2


def f_isco(total_mass: torch.Tensor) -> torch.Tensor:
    """Innermost-stable-circular-orbit GW frequency, Hz: c^3 / (6^1.5 pi G M)."""
    return 1.0 / (6.0**1.5 * math.pi * MSUN_SECONDS * total_mass)


def snr_log(snr: torch.Tensor) -> torch.Tensor:
    """The SNR embedding's input: the same log scaling as the ``snr_estimate`` feature column."""
    t = TRANSFORMS["snr_estimate"]
    return (torch.log(snr.clamp_min(LOG_FLOOR)) - t.center) / t.scale


PHYSICS_NAMES: tuple[str, ...] = (
    "chirp_mass",
    "mass_ratio",
    "symmetric_mass_ratio",
    "snr_estimate",
    "f_isco",
    "chi_eff",
    "difficulty",
    "total_mass",
)


def physics_features(features: torch.Tensor) -> torch.Tensor:
    """Analytic physics summary ``(..., 8)`` (``PHYSICS_NAMES``), each scaled to O(1).

    ``difficulty`` is high for quiet, low-frequency-band signals: ``sigmoid((12 - snr) / 4)``
    raised by a short in-band duration (large total mass).
    """
    m1 = column(features, "mass_1").clamp_min(LOG_FLOOR)  # (...)
    m2 = column(features, "mass_2").clamp_min(LOG_FLOOR)
    m1, m2 = torch.maximum(m1, m2), torch.minimum(m1, m2)
    total = m1 + m2
    mc = chirp_mass(m1, m2)
    q = m1 / m2
    eta = m1 * m2 / total**2
    snr = column(features, "snr_estimate").clamp_min(LOG_FLOOR)
    fisco = f_isco(total)
    chi_eff = (m1 * column(features, "chi_1") + m2 * column(features, "chi_2")) / total
    difficulty = torch.sigmoid((12.0 - snr) / 4.0) * (1.0 + torch.log1p(total / 100.0)) / 2.0
    cols = (
        (torch.log(mc) - math.log(15.0)),
        torch.log(q),
        eta * 4.0 - 0.5,
        snr_log(snr),
        (torch.log(fisco) - math.log(200.0)),
        chi_eff,
        difficulty,
        (torch.log(total) - math.log(40.0)),
    )
    return torch.stack(cols, dim=-1)  # (..., 8)
