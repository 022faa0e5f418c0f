"""The pass's table (kind | run | held | broke) and every break listed, from results.jsonl.

No flag is excused here: a flag that is not a break is an artefact of the probe or the harness,
and is fixed there (README: "Triage")."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Optional


def load(path: Path, names: Optional[set] = None) -> list[dict]:
    """The latest result of each probe (a rerun replaces the earlier line)."""
    rows: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                if names is None or r["name"] in names:
                    rows[r["name"]] = r
    return list(rows.values())


def table(rows: Iterable[dict]) -> dict[str, list]:
    by: dict[str, list] = defaultdict(lambda: [0, []])
    for r in rows:
        by[r["kind"]][0] += 1
        if r["flags"]:
            by[r["kind"]][1].append(r)
    return dict(sorted(by.items()))


def print_summary(rows: list[dict]) -> int:
    """Exit status: 0 when every probe held, 1 when any broke."""
    by = table(rows)
    print("| kind | run | held | broke |")
    print("|---|---|---|---|")
    for kind, (n, broke) in by.items():
        print(f"| {kind} | {n} | {n - len(broke)} | {len(broke)} |")
    total, broke = sum(v[0] for v in by.values()), sum(len(v[1]) for v in by.values())
    print(f"| all | {total} | {total - broke} | {broke} |")
    for kind, (_, rows_broke) in by.items():
        for r in rows_broke:
            last = r["err"][-1] if r["err"] else ""
            print(f"BROKE {kind} {r['name']!r} rc={r['rc']} {','.join(r['flags'])}: {last[:300]}"
                  f"{' ' + str(r['extra'][:3]) if r['extra'] else ''}")
    return 1 if broke else 0
