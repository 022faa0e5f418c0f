"""The one error family of ``ahsd_train``.

Every error the engine, the run and the review commands raise derives from :class:`AhsdTrainError`;
the CLI catches only this family (and `ahsd_config`'s) and maps ``exit_code`` to the process exit
status (PRODUCT.md: 2 is bad input or a config/run that may not proceed; 130 an interrupted run).
Messages say what to do next. This module is the package's foundation: it imports nothing from
``ahsd_train``, and every room (engine, run, review, cli) may import it.
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


# --- engine -------------------------------------------------------------------------------------


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


# --- run and review (`ahsd-train run/doctor`) ------------------------------------------------------


class PreflightError(AhsdTrainError):
    """The model and one batch of shapes do not fit (found on the meta device, before any data)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"preflight failed: {message}")


class DeviceUnavailable(AhsdTrainError):
    """`--device cuda` (or config `device: cuda`) on a machine without CUDA."""


class RunDirError(AhsdTrainError):
    """The run directory cannot be used: an existing run without `--resume`, or no run to resume."""


class CheckpointError(AhsdTrainError):
    """No usable checkpoint: every candidate is missing or corrupt."""


class ResumeRefused(AhsdTrainError):
    """The checkpoint was written with a different config; `diff` is [(key, old, new)]."""

    def __init__(self, checkpoint: str, diff: list[tuple[str, object, object]]) -> None:
        lines = "\n".join(f"  {key}: {old!r} -> {new!r}" for key, old, new in diff)
        super().__init__(
            f"{checkpoint}: the config differs from the one this run was started with "
            f"({len(diff)} key{'s' if len(diff) != 1 else ''}):\n{lines}\n"
            "resume with the original config, start a new run (--out), or pass --force to "
            "continue with the new values"
        )
        self.diff = diff


class RunFileError(AhsdTrainError):
    """A run directory's file cannot be read: not a regular file, too large, or a line past the cap
    (the message names the file, and the line where one is at fault)."""


class DoctorError(AhsdTrainError):
    """`ahsd-train doctor RUN_DIR` got a directory that holds no run."""


class RunInterrupted(AhsdTrainError):
    """Ctrl-C or SIGTERM stopped the run; run.json says "interrupted" and the message says whether
    there is a checkpoint to resume (exit 130, as a shell reports SIGINT)."""

    exit_code = 130
