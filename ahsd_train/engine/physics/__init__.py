"""Real waveforms and detector noise from LALSuite (the ``[physics]`` extra).

``lal_model`` wraps the library (approximant, antenna patterns, time delays, design PSDs);
``scenario`` turns one scenario's true parameters into per-detector SNRs, matched-filter SNRs,
physical track overlaps and whitened strain windows; ``generate`` writes them as the project's
safetensors shards, in parallel and resumably. Only ``generate`` is imported by the CLI; it imports
LALSuite lazily and raises ``PhysicsUnavailable`` (exit 2, with the install line) without it.
"""

from ahsd_train.errors import PhysicsUnavailable

INSTALL_HINT = "pip install 'ahsd[physics]'"


def require_lal() -> None:
    """Raise ``PhysicsUnavailable`` naming the missing module when LALSuite is not installed."""
    try:
        import lal  # noqa: F401
        import lalsimulation  # noqa: F401
    except ImportError as e:
        name = getattr(e, "name", None) or "lal"
        raise PhysicsUnavailable(f"--physics needs LALSuite ({name} is not installed): {INSTALL_HINT}") from None
