"""Progress bars for long work (training steps, data generation, evaluation, the benchmark).

One rule for every command: a bar (rich) on stderr only when stderr is a terminal and `--quiet`
was not given; otherwise nothing at all (logs and pipes stay clean). Library code takes a
`Progress` and calls `task(...)` / `Task.update(...)`; `NO_PROGRESS` is the silent default, so
nothing below the CLI decides how to render.

Cost: `Task.update` is a time check and an attribute store; rich is only told at most
`MIN_INTERVAL_S` apart (and its own refresh thread draws at `REFRESH_PER_S`), so a 10 ms training
step is not slowed measurably (`benchmarks/progress_overhead.py`).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Any, Iterator, TextIO

MIN_INTERVAL_S = 0.25  # tell rich at most 4 times a second
REFRESH_PER_S = 4


class Task:
    """One bar. `update(completed, **fields)` may be called every step: it is throttled."""

    def update(self, completed: int | None = None, advance: int = 0, **fields: Any) -> None: ...

    def reset(self, total: int | None, completed: int = 0, **fields: Any) -> None: ...

    def flush(self) -> None:
        """Show the latest state now (at the end of a phase), whatever the throttle says."""

    def close(self) -> None: ...


class Progress:
    """The silent implementation (and the interface)."""

    enabled = False

    def open(self, description: str, total: int | None = None, completed: int = 0, **fields: Any) -> Task:
        """A bar that stays until `Task.close()`; `total=None` is a spinner with elapsed time."""
        return Task()

    @contextmanager
    def task(self, description: str, total: int | None = None, completed: int = 0,
             **fields: Any) -> Iterator[Task]:
        task = self.open(description, total, completed, **fields)
        try:
            yield task
        finally:
            task.close()

    def print(self, line: str) -> None:
        print(line, file=sys.stderr)

    def close(self) -> None: ...


NO_PROGRESS = Progress()


class _RichTask(Task):
    def __init__(self, progress: Any, task_id: Any, completed: int) -> None:
        self._progress, self._id = progress, task_id
        self._completed, self._fields, self._last = completed, {}, float("-inf")  # the first update shows

    def update(self, completed: int | None = None, advance: int = 0, **fields: Any) -> None:
        self._completed = (self._completed if completed is None else completed) + advance
        self._fields.update(fields)
        now = time.monotonic()
        if now - self._last >= MIN_INTERVAL_S:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        self._last = time.monotonic() if now is None else now
        self._progress.update(self._id, completed=self._completed, **self._fields)

    def reset(self, total: int | None, completed: int = 0, **fields: Any) -> None:
        self._completed = completed
        self._fields.update(fields)
        self._progress.reset(self._id, total=total, completed=completed, **self._fields)
        self._last = float("-inf")  # the first update after a reset (a new epoch's first step) shows

    def close(self) -> None:
        self.flush()
        self._progress.remove_task(self._id)


class RichProgress(Progress):
    """Bars on a terminal stream (stderr). Lines printed through `print` appear above the bars."""

    enabled = True

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn,
                                   TimeElapsedColumn)
        from rich.progress import Progress as _Rich

        self.console = Console(file=stream or sys.stderr, highlight=False, soft_wrap=True)
        self._rich = _Rich(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                           MofNCompleteColumn(), TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                           console=self.console, transient=True, refresh_per_second=REFRESH_PER_S)
        self._started = False

    def open(self, description: str, total: int | None = None, completed: int = 0, **fields: Any) -> Task:
        if not self._started:
            self._rich.start()
            self._started = True
        fields.setdefault("status", "")
        task_id = self._rich.add_task(description, total=total, completed=completed, **fields)
        return _RichTask(self._rich, task_id, completed)

    def print(self, line: str) -> None:
        self.console.print(line, markup=False)

    def close(self) -> None:
        if self._started:
            self._rich.stop()
            self._started = False


def wants_bars(quiet: bool, stream: TextIO | None = None) -> bool:
    """Bars only for a person: not with --quiet, not into a pipe or file, not on a dumb terminal."""
    stream = stream or sys.stderr
    if quiet or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def make_progress(quiet: bool = False, stream: TextIO | None = None) -> Progress:
    return RichProgress(stream) if wants_bars(quiet, stream) else NO_PROGRESS
