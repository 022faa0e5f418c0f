"""Kind `gate`: `ahsd-train run` on one config per (scalar key the trainer reads, hostile value).
The gate promise: whatever `ahsd-config validate` refuses, `run` refuses too, with the same error
codes and before a run folder exists; whatever validate accepts trains or is refused in one line
(the preflight), never a traceback."""

from __future__ import annotations

from pathlib import Path

import fixtures
from harness import Ctx, Probe

KINDS = {"gate"}
NEEDS = {"run", "configs"}
LISTED_FROM_FIXTURES = True  # the configs are generated from the base run


def refused_check(codes: list[str]):
    def check(d: Path, res) -> list[str]:
        flags = ["RUNDIR"] if (d / "r").exists() else []
        missing = [c for c in codes if c != "INPUT" and c not in res.stderr]
        return flags + (["CODES:" + ",".join(missing)] if missing else [])
    return check


def probes(ctx: Ctx) -> list[Probe]:
    out = []
    for c in fixtures.configs(ctx):
        args = ["run", "--config", c["path"], "--device", "cpu", "--max-steps", "2", "--out", "{d}/r", "-q"]
        if c["status"] == "accepted":
            out.append(Probe(f"gate-acc {c['name']}", "gate", args, expect={0, 2}, timeout=120))
        else:
            out.append(Probe(f"gate-ref {c['name']}", "gate", args, timeout=60, check=refused_check(c["codes"]),
                             one_line=c["status"] == "input-error"))
    return out
