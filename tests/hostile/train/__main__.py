"""Run the hostile pass over `ahsd-train`: `python tests/hostile/train [--kind K ...] [--jobs N]`.

Results go to WORK/results.jsonl (one JSON line a probe, appended; the latest line of a probe
wins), one progress line a probe to stdout, and the summary at the end. `--summary` only prints
the summary of what WORK/results.jsonl holds. See tests/hostile/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fixtures  # noqa: E402
import summary  # noqa: E402
from harness import Ctx, Probe, run_probe  # noqa: E402

# Ordered by what a pass should learn first: the kinds with open items, then the rest.
MODULES = ("probes_data", "probes_review", "probes_ckpt", "probes_input", "probes_options", "probes_env",
           "probes_signals", "probes_gate")


def all_probes(ctx: Ctx, kinds: list[str] | None, fast: bool = False) -> list[Probe]:
    """The probes of every module that defines one of `kinds` (all when None), each tagged with the
    fixtures its module needs (a `fast` probe needs none). A module whose probe list is itself made
    from fixtures (the gate's configs) is skipped when only fast probes are wanted."""
    probes = []
    for name in MODULES:
        module = __import__(name)
        if kinds and not set(kinds) & module.KINDS or fast and getattr(module, "LISTED_FROM_FIXTURES", False):
            continue
        for p in module.probes(ctx):
            p.needs = set() if p.fast else set(module.NEEDS)
            probes.append(p)
    return probes


def parse(argv: list[str]) -> argparse.Namespace:
    root = HERE.parents[2]
    ap = argparse.ArgumentParser(prog="python tests/hostile/train", description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=root, help="project checkout (default: the one holding this file)")
    ap.add_argument("--exe", type=Path, help="the ahsd-train to attack (default: ROOT/.venv/bin/ahsd-train); "
                    "ahsd-config and python are taken from its folder")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ahsd-hostile-train",
                    help="work folder: fixtures, one folder per probe (kept when it broke), results.jsonl")
    ap.add_argument("--kind", action="append", help="only these kinds (repeatable)")
    ap.add_argument("--match", help="only probes whose name matches this regular expression")
    ap.add_argument("--fast", action="store_true", help="only the probes that need no fixture (the smoke set)")
    ap.add_argument("--start", type=int, default=0, help="begin at this index of the selection")
    ap.add_argument("--stride", type=int, default=1, help="take every Nth probe of the selection")
    ap.add_argument("--jobs", type=int, default=1, help="probes at once (default 1: the box is shared)")
    ap.add_argument("--list", action="store_true", help="print the selected probes' kinds and names only")
    ap.add_argument("--summary", action="store_true", help="print the summary of WORK/results.jsonl and exit")
    ap.add_argument("--keep", action="store_true", help="keep the folder of every probe, held or not")
    return ap.parse_args(argv)


def select(probes: list[Probe], args: argparse.Namespace) -> list[Probe]:
    sel = [p for p in probes if (not args.kind or p.kind in args.kind)
           and (not args.match or re.search(args.match, p.name)) and (not args.fast or p.fast)]
    return sel[args.start::args.stride]


def main(argv: list[str]) -> int:
    args = parse(argv)
    exe = (args.exe or args.root / ".venv" / "bin" / "ahsd-train").absolute()
    ctx = Ctx(root=args.root.resolve(), bin=exe.parent, work=args.work.absolute())
    results = ctx.work / "results.jsonl"
    if args.summary:
        return summary.print_summary(summary.load(results))
    ctx.work.mkdir(parents=True, exist_ok=True)
    sel = select(all_probes(ctx, args.kind, args.fast), args)
    if args.list:
        for p in sel:
            print(f"{p.kind:10} {p.name}")
        return 0
    fixtures.build(ctx, set().union(*(p.needs for p in sel)))
    t0 = time.monotonic()
    with open(results, "a") as log, ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for r in pool.map(lambda p: guarded(p, ctx, args.keep), sel):
            log.write(json.dumps(r) + "\n")
            log.flush()
            mark = "BROKE " + ",".join(r["flags"]) if r["flags"] else "held"
            print(f"{r['kind']:9} {r['name'][:60]:60} rc={r['rc']!s:8} {r['secs']:6}s {mark}  "
                  f"{' | '.join(r['err'])[:240]}", flush=True)
    print(f"{len(sel)} probes in {time.monotonic() - t0:.0f} s (--jobs {args.jobs})")
    return summary.print_summary(summary.load(results, names={p.name for p in sel}))


def guarded(p: Probe, ctx: Ctx, keep: bool) -> dict:
    """A fault of the harness itself is reported as the probe's flag HARNESS, never a held probe."""
    try:
        return run_probe(p, ctx, keep)
    except Exception as exc:  # noqa: BLE001 - one probe's setup fault must not end the pass
        return {"name": p.name, "kind": p.kind, "rc": None, "flags": ["HARNESS"], "secs": 0,
                "err": [f"{type(exc).__name__}: {exc}"], "extra": []}


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main(sys.argv[1:]))
