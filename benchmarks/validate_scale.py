"""Validation time against file size: N and 4N unknown keys (issue 9: linear, 1 s per MB budget).

    python benchmarks/validate_scale.py [--n 5000] [--runs 3]

Prints, for N and 4N keys, the file size, the median seconds of load + validate (in process, after
one warm-up), seconds per MB, and the 4N/N ratio (about 4 when linear, 16 when quadratic); for the
loader's C road (what `validate` uses) and, alternating with it run by run so machine load hits both
alike, the round-trip road (ruamel, what `validate` used before; the writers' road), with their ratio.
A second table times a *valid* large config (the shipped one with a long list), the common case.

    python benchmarks/validate_scale.py --constructs [--mb 1.0] [--runs 5]

times a ~1 MB file of unknown keys that ALSO holds one construct the C road used to leave to the
round-trip road (issue 9 item 4): an anchor and an alias, a merge key, a block scalar, an explicit
tag, a timestamp, a duplicate key at the end, and three refusals at the end (a hostile tag, a
parse error, an alias bomb in keys). Each row: median s/MB of load + validate (or of the refusal)
on each road, alternating run by run, and their ratio.

    python benchmarks/validate_scale.py --against REF [--n 20000] [--runs 3]

times this tree against the project at git REF (extracted with `git archive` into a temp folder),
N unknown keys, one fresh process per tree per round, alternating: a ratio that holds however
loaded the machine is (the absolute s/MB on a shared box do not).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ahsd_config.api.validate import validate_document
from ahsd_config.errors import InputError
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


# One tree's load + validate of n unknown keys, median of 3 after a warm-up, in a fresh process that
# imports ahsd_config from ROOT (the editable install's finder is removed so that sys.path decides).
PROBE = """
import json, statistics, sys, time
sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__]
sys.path.insert(0, sys.argv[1])
import ahsd_config
assert ahsd_config.__file__.startswith(sys.argv[1]), ahsd_config.__file__
from ahsd_config.api.validate import validate_document
from ahsd_config.errors import InputError
from ahsd_config.input.loader import load_text
text = "priority_net:\\n" + "".join(f"  unknown_key_{i}: {i}\\n" for i in range(int(sys.argv[2])))
validate_document(load_text("priority_net:\\n  a: 1\\n"))
times = []
for _ in range(3):
    started = time.perf_counter()
    validate_document(load_text(text))
    times.append(time.perf_counter() - started)
print(json.dumps([statistics.median(times), len(text.encode()) / 1e6]))
"""


def against(ref: str, n: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        roots = {f"at {ref}": folder, "this tree": str(REPO)}
        times: dict[str, list[float]] = {name: [] for name in roots}
        for _ in range(runs):
            for name, root in roots.items():
                done = subprocess.run([sys.executable, "-c", PROBE, root, str(n)], capture_output=True, text=True, check=True)
                seconds, mb = json.loads(done.stdout.strip().splitlines()[-1])
                times[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in medians.items():
        print(f"{name:<22} {n} unknown keys, {mb:.2f} MB: {seconds:6.2f} s  {seconds / mb:5.2f} s/MB")
    print(f"{ref} / this tree: {medians[f'at {ref}'] / medians['this tree']:.1f}x")


def _bomb_in_keys() -> str:
    text = "  ? &k0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n  : 0\n"
    return text + "".join(f"  ? &k{i} [" + ", ".join([f"*k{i - 1}"] * 9) + f"]\n  : {i}\n" for i in range(1, 8))


# name -> (text before the unknown keys, text after them); the keys sit under priority_net.
CONSTRUCTS = {
    "none (plain unknown keys)": ("priority_net:\n", ""),
    "anchor + alias": ("priority_net:\n  anchored: &a [1, 2, 3]\n", "  aliased: *a\n"),
    "merge key": ("shared: &s {extra_a: 1, extra_b: 2}\npriority_net:\n  <<: *s\n", ""),
    "block scalar": ("priority_net:\n", "  notes: |\n    first line\n    second line\n  folded: >-\n    a\n    b\n"),
    "explicit tag": ("priority_net:\n", "  tagged: !!str 5\n  counted: !!int '7'\n"),
    "timestamp": ("priority_net:\n", "  stamp: 2025-01-01 10:20:30\n"),
    "duplicate key at the end": ("priority_net:\n", "  unknown_key_0: 1\n"),
    "hostile tag at the end (refused)": ("priority_net:\n", "  evil: !!python/object/apply:os.system [echo hi]\n"),
    "parse error at the end (refused)": ("priority_net:\n", "  bad: [1, 2\n"),
    "alias bomb in keys at the end (refused)": ("priority_net:\n", _bomb_in_keys()),
}


def with_construct(name: str, mb: float) -> str:
    before, after = CONSTRUCTS[name]
    lines, size, i = [], 0, 0
    while size < mb * 1e6:
        lines.append(f"  unknown_key_{i}: {i}\n")
        size, i = size + len(lines[-1]), i + 1
    return before + "".join(lines) + after


def load_and_validate(text: str, roundtrip: bool) -> str:
    try:
        validate_document(load_text(text, "<bench>", roundtrip=roundtrip))
    except InputError as exc:
        return "refused: " + exc.message[:50]
    return "read"


def constructs(mb: float, runs: int) -> None:
    print(f"a ~{mb:g} MB file of unknown keys that also holds one construct: median s/MB, alternating runs")
    print(f"  {'construct':<42} {'MB':>5}  {'C road':>11}  {'round-trip':>11}  {'ratio':>6}  outcome")
    for name in CONSTRUCTS:
        text = with_construct(name, mb)
        size = len(text.encode()) / 1e6
        times: dict[bool, list[float]] = {False: [], True: []}
        outcomes = set()
        for _ in range(runs):
            for roundtrip in (False, True):
                started = time.perf_counter()
                outcomes.add(load_and_validate(text, roundtrip))
                times[roundtrip].append(time.perf_counter() - started)
        c, rt = statistics.median(times[False]), statistics.median(times[True])
        assert len(outcomes) == 1, outcomes  # both roads give the same answer
        print(f"  {name:<42} {size:5.2f}  {c / size:6.2f} s/MB  {rt / size:6.2f} s/MB  {rt / c:5.1f}x  {outcomes.pop()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", metavar="REF", help="time this tree against the project at git REF")
    parser.add_argument("--constructs", action="store_true", help="only the table of ~1 MB files with one construct each")
    parser.add_argument("--mb", type=float, default=1.0, help="file size for --constructs")
    args = parser.parse_args()
    if args.against:
        against(args.against, args.n, args.runs)
        return
    if args.constructs:
        validate_document(load_text(unknown_keys(10), "<warm-up>"))
        constructs(args.mb, args.runs)
        return
    validate_document(load_text(unknown_keys(10), "<warm-up>"))
    table("unknown keys (every key a finding: AHSD901)", unknown_keys, [args.n, 4 * args.n], args.runs)
    table("a valid config with a long list (no findings from the list)", long_list, [args.n, 4 * args.n], args.runs)


if __name__ == "__main__":
    main()
