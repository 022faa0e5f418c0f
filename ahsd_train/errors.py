"""The one error family of ``ahsd_train``.

Every error the engine and the trainer raise derives from :class:`AhsdTrainError`; the CLI catches
only this family and maps ``exit_code`` to the process exit status (PRODUCT.md: 2 is bad input or a
config/run that may not proceed).
"""

from __future__ import annotations


class AhsdTrainError(Exception):
    """Base of every error ``ahsd_train`` raises; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class NonFiniteError(AhsdTrainError):
    """A tensor that must be finite was not: ``where`` names it (e.g. ``loss input priority``)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"non-finite values in {where}: {message}")
        self.where = where


class ShardError(AhsdTrainError):
    """An on-disk scenario shard directory is missing, corrupt or inconsistent with its manifest."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class ModelInputError(AhsdTrainError):
    """A batch does not fit the model it is fed to (feature count, strain shape, edge ids)."""


class PhysicsUnavailable(AhsdTrainError):
    """LALSuite (the ``[physics]`` extra) is not importable: ``data generate --physics`` cannot run."""
