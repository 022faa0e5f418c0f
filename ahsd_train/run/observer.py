"""What the loop tells the outside world (`Observer`), and the loop's one test seam (`TrainHooks`).

The CLI renders an observer with bars (rich); compare prints epoch lines; tests may record. The loop
never prints on its own.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ahsd_train.run.progress import NO_PROGRESS, Progress
from ahsd_train.run.records import EpochRecord, StepRecord

TEST_HOOK_ENV = "AHSD_TEST_INJECT_NAN_AT_STEP"


class Observer:
    """What the loop tells the outside world; the CLI renders it (rich), tests may record it."""

    progress: Progress = NO_PROGRESS  # bars for data, steps and evaluation (ahsd_train.run.progress)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    def info(self, message: str) -> None:
        print(message, file=sys.stderr)

    def start(self, run_dir: Path, total_steps: int, done_steps: int, steps_per_epoch: int = 0) -> None: ...

    def step(self, record: StepRecord) -> None: ...

    def epoch(self, record: EpochRecord) -> None: ...

    def close(self) -> None: ...


class Silent(Observer):
    """Every replica but rank 0, and compare's runs when nobody watches: one voice only."""

    def warn(self, message: str) -> None: ...

    def info(self, message: str) -> None: ...


@dataclass
class TrainHooks:
    """Test seams; `after_loss(step, loss) -> loss` may replace a step's LossResult."""

    after_loss: Callable[[int, Any], Any] | None = None


def hooks_from_env() -> TrainHooks:
    """The ONE place the test hook is read: `AHSD_TEST_INJECT_NAN_AT_STEP=N` makes the `ranking`
    component (and so the total loss) NaN at global step N, to exercise the non-finite path."""
    raw = os.environ.get(TEST_HOOK_ENV)
    if not raw:
        return TrainHooks()
    at = int(raw)

    def inject(step: int, loss):
        import torch

        if step != at:
            return loss
        nan = torch.full_like(loss.components["ranking"], float("nan"))
        components = {**loss.components, "ranking": nan}
        weighted = {**loss.weighted, "ranking": nan}
        return dataclasses.replace(loss, total=loss.total + nan, components=components, weighted=weighted)

    return TrainHooks(after_loss=inject)
