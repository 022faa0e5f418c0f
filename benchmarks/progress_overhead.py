"""What a progress bar costs a training step: `Task.update` per call, bars on vs off.

The trainer calls `update` once per optimizer step; rich is told at most 4 times a second
(ahsd_train/run/progress.py), so the per-call cost is a clock read and a few stores. This times
N calls with bars rendered to a (fake) terminal against the silent default, alternating rounds,
and sets the difference against the batch-24 CPU training step (`ahsd-train bench`, README).

    python benchmarks/progress_overhead.py [--calls 20000] [--rounds 7] [--step-ms 13.1]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from ahsd_train.run.progress import NO_PROGRESS, RichProgress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def per_call_us(progress, calls: int) -> float:
    task = progress.open("epoch 1", total=calls)
    start = time.perf_counter()
    for i in range(calls):
        task.update(completed=i + 1, status=f"loss {0.5:.4g}  grad {1.25:.3g}  {300.0:.0f} scen/s")
    elapsed = time.perf_counter() - start
    task.close()
    progress.close()
    return elapsed / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--step-ms", type=float, default=13.1, help="training step to compare with (README)")
    args = parser.parse_args()
    on, off = [], []
    for _ in range(args.rounds):  # alternating, so machine load hits both alike
        on.append(per_call_us(RichProgress(FakeTerminal()), args.calls))
        off.append(per_call_us(NO_PROGRESS, args.calls))
    med_on, med_off = statistics.median(on), statistics.median(off)
    extra = med_on - med_off
    print(f"update() per call, median of {args.rounds} rounds x {args.calls} calls")
    print(f"{'bars':<10}{'us/call':>10}")
    print(f"{'on':<10}{med_on:>10.2f}")
    print(f"{'off':<10}{med_off:>10.2f}")
    print(f"extra per step: {extra:.2f} us = {extra / (args.step_ms * 1e3) * 100:.3f} % of a {args.step_ms} ms step")


if __name__ == "__main__":
    main()
