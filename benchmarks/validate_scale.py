"""Validation time against file size: N and 4N unknown keys (issue 9: linear, 1 s per MB budget).

    python benchmarks/validate_scale.py [--n 5000] [--runs 3]

Prints, for N and 4N keys, the file size, the median seconds of load + validate (in process, after
one warm-up), seconds per MB, and the 4N/N ratio (about 4 when linear, 16 when quadratic).
"""

from __future__ import annotations

import argparse
import statistics
import time

from ahsd_config.input.loader import load_text
from ahsd_config.api.validate import validate_document


def document(n: int) -> str:
    return "priority_net:\n" + "".join(f"  unknown_key_{i}: {i}\n" for i in range(n))


def median_seconds(text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        validate_document(load_text(text, "<bench>"))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    validate_document(load_text(document(10), "<warm-up>"))
    rows = []
    for n in (args.n, 4 * args.n):
        text = document(n)
        seconds = median_seconds(text, args.runs)
        mb = len(text.encode()) / 1e6
        rows.append(seconds)
        print(f"{n:>7} keys  {mb:6.2f} MB  {seconds:6.2f} s  {seconds / mb:5.1f} s/MB")
    print(f"4N/N time ratio: {rows[1] / rows[0]:.2f} (linear ~4, quadratic ~16)")


if __name__ == "__main__":
    main()
