"""Errors of the trainer (`ahsd-train run/doctor`), all in the `AhsdTrainError` family.

The CLI catches only this family (and `ahsd_config`'s) and exits with `exit_code`; messages say
what to do next. Exit 2: the run may not start or continue (PRODUCT.md).
"""

from __future__ import annotations

from ahsd_train.errors import AhsdTrainError


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


class DoctorError(AhsdTrainError):
    """`ahsd-train doctor RUN_DIR` got a directory that holds no run."""


class RunInterrupted(AhsdTrainError):
    """Ctrl-C or SIGTERM stopped the run; run.json says "interrupted" and the message says whether
    there is a checkpoint to resume (exit 130, as a shell reports SIGINT)."""

    exit_code = 130
