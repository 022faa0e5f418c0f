"""The one timer of the scaling tests (N vs 4N): ratios, never absolute times."""

from __future__ import annotations

import time


def best_cpu_seconds(runs: int, fn) -> float:
    """The least CPU time of this process over `runs` calls: what other processes on a shared box
    do costs wall time, not this process's CPU time."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best
