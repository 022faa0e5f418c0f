"""Run the hostile pass over ahsd-config, or print the summary of one already run.

    python tests/hostile/config/run.py                      # every probe of every kind, one at a time
    python tests/hostile/config/run.py --kind yaml,gate --stride 4 --start 1 --jobs 2
    python tests/hostile/config/run.py --summary WORK/results.jsonl

Results go to WORK/results.jsonl (one JSON object a probe, appended as each finishes); the folder of a
probe that broke is kept under WORK/runs/ for triage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kinds_extra  # noqa: E402
import kinds_files  # noqa: E402
import kinds_gate  # noqa: E402
import kinds_yaml  # noqa: E402
from harness import Probe, Target, default_work, make_template, run_probe  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]  # the repository this harness lives in
MODULES = (kinds_yaml, kinds_files, kinds_gate, kinds_extra)


def all_probes(target: Target) -> dict[str, list[Probe]]:
    """kind -> its probes, in a stable order (a probe's number within its kind names it in reports)."""
    by_kind: dict[str, list[Probe]] = {}
    for module in MODULES:
        for p in module.probes(target):
            by_kind.setdefault(p.kind, []).append(p)
    return by_kind


def select(by_kind: dict[str, list[Probe]], kinds: list[str] | None, start: int, stride: int,
           name: str | None) -> list[tuple[str, Probe]]:
    chosen = []
    for kind, probes in by_kind.items():
        if kinds and kind not in kinds:
            continue
        for i, p in enumerate(probes):
            if i < start or (i - start) % stride or (name and name not in p.name):
                continue
            chosen.append((f"{kind}-{i:04d}", p))
    return chosen


def run(target: Target, chosen: list[tuple[str, Probe]], jobs: int, results: Path, quiet: bool = False) -> list[dict]:
    make_template(target)
    target.runs.mkdir(parents=True, exist_ok=True)
    out = []
    with results.open("a") as log, ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_probe, target, p, slot) for slot, p in chosen]
        for future in futures:
            r = future.result()
            out.append(r)
            log.write(json.dumps(r) + "\n")
            log.flush()
            if not quiet:
                print(line(r), flush=True)
    return out


def line(r: dict) -> str:
    flag = "BREAK" if r["problems"] else ("soft" if r["soft"] else "ok")
    notes = " | ".join(r["problems"] + r["soft"])
    return f"{r['slot']:22s} {flag:5s} {r['name'][:70]:70s} rc={r['rc']} {r['seconds']:6.1f}s {notes}"


def summary(results: list[dict]) -> str:
    """The table kind | run | held | broke (| soft), then each break with its last stderr lines."""
    run_n, broke, soft = Counter(), Counter(), Counter()
    for r in results:
        run_n[r["kind"]] += 1
        broke[r["kind"]] += bool(r["problems"])
        soft[r["kind"]] += bool(r["soft"]) and not r["problems"]
    rows = ["| kind | run | held | broke | soft |", "|---|---|---|---|---|"]
    for kind in run_n:
        rows.append(f"| {kind} | {run_n[kind]} | {run_n[kind] - broke[kind]} | {broke[kind]} | {soft[kind]} |")
    total, total_broke = sum(run_n.values()), sum(broke.values())
    rows.append(f"| **all** | {total} | {total - total_broke} | {total_broke} | {sum(soft.values())} |")
    seconds = sum(r["seconds"] for r in results)
    rows.append(f"\ncommand time {seconds:.0f} s (the probes' own commands, not set-up)")
    breaks = [r for r in results if r["problems"]]
    if breaks:
        rows.append("\nbreaks:")
        for r in breaks:
            rows.append(line(r))
            rows += ["        " + x[:200] for x in r["stderr"].splitlines()[-4:]]
    return "\n".join(rows)


def read_results(path: Path) -> list[dict]:
    """The latest result of each slot (a re-run appends; it replaces the earlier line)."""
    latest: dict[str, dict] = {}
    for text in path.read_text().splitlines():
        if text.strip():
            r = json.loads(text)
            latest[r["slot"]] = r
    return list(latest.values())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=ROOT, help="project checkout to attack (default: this repository)")
    ap.add_argument("--exe", type=Path, help="ahsd-config to run (default: ROOT/.venv/bin/ahsd-config)")
    ap.add_argument("--work", type=Path, default=default_work(), help="scratch folder (default: %(default)s)")
    ap.add_argument("--kind", help="comma-separated kinds (default: all); --list shows them")
    ap.add_argument("--name", help="only probes whose name contains this")
    ap.add_argument("--start", type=int, default=0, help="first probe number within each kind")
    ap.add_argument("--stride", type=int, default=1, help="every Nth probe from --start")
    ap.add_argument("--jobs", type=int, default=1, help="probes at once (default 1)")
    ap.add_argument("--list", action="store_true", help="print each kind and its probe count, run nothing")
    ap.add_argument("--summary", type=Path, metavar="RESULTS", help="print the summary of a results.jsonl, run nothing")
    ap.add_argument("--fresh", action="store_true", help="empty WORK/results.jsonl first")
    args = ap.parse_args(argv)
    if args.summary:
        print(summary(read_results(args.summary)))
        return 0
    target = Target(args.root.resolve(), (args.exe or args.root / ".venv/bin/ahsd-config").resolve(), args.work.resolve())
    by_kind = all_probes(target)
    if args.list:
        for kind, probes in by_kind.items():
            print(f"{kind:16s} {len(probes):5d}")
        print(f"{'all':16s} {sum(map(len, by_kind.values())):5d}")
        return 0
    kinds = args.kind.split(",") if args.kind else None
    unknown = set(kinds or ()) - set(by_kind)
    if unknown:
        ap.error(f"unknown kind(s) {sorted(unknown)}; known: {sorted(by_kind)}")
    chosen = select(by_kind, kinds, args.start, args.stride, args.name)
    target.work.mkdir(parents=True, exist_ok=True)
    results = target.work / "results.jsonl"
    if args.fresh and results.exists():
        results.unlink()
    started = time.monotonic()
    done = run(target, chosen, args.jobs, results)
    print(summary(done))
    print(f"wall {time.monotonic() - started:.0f} s for {len(done)} probes, --jobs {args.jobs}")
    return 1 if any(r["problems"] for r in done) else 0


if __name__ == "__main__":
    sys.exit(main())
