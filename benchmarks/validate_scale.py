"""Validation time against file size: N and 4N unknown keys (issue 9: linear, 1 s per MB budget).

    python benchmarks/validate_scale.py [--n 5000] [--runs 3]

Prints, for N and 4N keys, the file size, the median seconds of load + validate (in process, after
one warm-up), seconds per MB, and the 4N/N ratio (about 4 when linear, 16 when quadratic); for the
loader's C road (what `validate` uses) and, alternating with it run by run so machine load hits both
alike, the round-trip road (ruamel, what `validate` used before; the writers' road), with their ratio.
A second table times a *valid* large config (the shipped one with a long list), the common case.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from ahsd_config.api.validate import validate_document
from ahsd_config.input.loader import load_text

REPO = Path(__file__).resolve().parents[1]
ROADS = {"C road": False, "round-trip road": True}


def unknown_keys(n: int) -> str:
    return "priority_net:\n" + "".join(f"  unknown_key_{i}: {i}\n" for i in range(n))


def long_list(n: int) -> str:
    """The shipped config, valid, with n more items in monitoring.metrics (no finding from them)."""
    shipped = (REPO / "configs" / "enhanced_training.yaml").read_text(encoding="utf-8")
    anchor = "    - gradient_norm"  # an item of monitoring.metrics
    assert anchor in shipped
    return shipped.replace(anchor, "".join(f"    - metric_{i}\n" for i in range(n)) + anchor, 1)


def median_seconds(text: str, runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {road: [] for road in ROADS}
    for _ in range(runs):
        for road, roundtrip in ROADS.items():
            started = time.perf_counter()
            validate_document(load_text(text, "<bench>", roundtrip=roundtrip))
            times[road].append(time.perf_counter() - started)
    return {road: statistics.median(values) for road, values in times.items()}


def table(title: str, make, sizes: list[int], runs: int) -> None:
    print(title)
    rows = []
    for n in sizes:
        text = make(n)
        mb = len(text.encode()) / 1e6
        seconds = median_seconds(text, runs)
        rows.append(seconds)
        cells = "   ".join(f"{road} {s:6.2f} s {s / mb:5.2f} s/MB" for road, s in seconds.items())
        print(f"  {n:>7} items {mb:6.2f} MB   {cells}   round-trip/C {seconds['round-trip road'] / seconds['C road']:4.1f}x")
    for road in ROADS:
        print(f"  {road}: 4N/N time ratio {rows[1][road] / rows[0][road]:.2f} (linear ~4, quadratic ~16)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    validate_document(load_text(unknown_keys(10), "<warm-up>"))
    table("unknown keys (every key a finding: AHSD901)", unknown_keys, [args.n, 4 * args.n], args.runs)
    table("a valid config with a long list (no findings from the list)", long_list, [args.n, 4 * args.n], args.runs)


if __name__ == "__main__":
    main()
