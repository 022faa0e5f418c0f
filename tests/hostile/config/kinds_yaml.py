"""Kinds `yaml` and `gate-yaml`: every hostile config text through every reader and writer, and the gate."""

from __future__ import annotations

import json
from pathlib import Path

from harness import Probe, Target, git
from payloads import CFG, payloads

# Payloads that also go through every output format and the write paths (the rest: the six commands).
WIDE = {"dup-nested", "tag-value-0", "tag-key", "alias-bomb-keys", "deep-flow-list", "num-huge-int", "num-nan",
        "surrogate-key", "surrogate-value", "bom", "crlf", "latin1-key", "esc-in-quoted-key", "two-docs",
        "rev-future", "rev-dash", "rev-newline", "rev-surrogate", "huge-file", "utf16", "dup-int-key",
        "merge-key-override", "nul", "section-null", "hidden-dims-map", "num-float-huge-exp", "suppress-all",
        "c1-bidi-in-quoted-key"}


def _write(payload: bytes):
    def setup(d: Path):
        (d / CFG).write_bytes(payload)
    return setup


def _pull_request(payload: bytes):
    def setup(d: Path):
        git(d, "checkout", "-qb", "pr")
        (d / CFG).write_bytes(payload)
        git(d, "commit", "-qam", "pr")
    return setup


def _commands(name: str) -> list[tuple[str, list[str]]]:
    cmds = [("validate", ["validate", CFG]), ("current", ["current", CFG]),
            ("migrate", ["migrate", CFG, "--to", "v261129b"]), ("stamp", ["stamp", CFG, "head"]),
            ("revision", ["revision", "-m", "t", "--from", CFG, "--id", "vx1"]),
            ("diff", ["diff", "head", CFG, "--format", "json"])]
    if name in WIDE:
        cmds += [(f"validate-{f}", ["validate", CFG, "-f", f]) for f in ("json", "sarif", "github")]
        cmds += [("validate-o", ["validate", CFG, "-o", "out/r.json", "-f", "json"]),
                 ("migrate-up", ["migrate", CFG]), ("migrate-dry", ["migrate", CFG, "--to", "v11", "--dry-run"]),
                 ("diff-md", ["diff", CFG, "v11", "--format", "markdown"])]
    return cmds


def report_whole(d: Path, proc) -> str | None:
    """`validate -o` writes its report even on exit 2 (the report names the refusal): it must be whole."""
    report = d / "out/r.json"
    if not report.exists():
        return None
    try:
        json.loads(report.read_text())
    except ValueError:
        return "BAD JSON REPORT (the -o file)"
    return None


def probes(target: Target) -> list[Probe]:
    out = []
    for name, payload in payloads(target.root).items():
        for cmd, argv in _commands(name):
            report = "-o" in argv
            out.append(Probe("yaml", f"{name} :: {cmd}", argv, _write(payload), timeout=90,
                             allow_change=("out",) if report else (), check=report_whole if report else None))
        out.append(Probe("gate-yaml", f"{name} :: ci", ["ci", "--base", "main"], _pull_request(payload),
                         timeout=90, gate_validate=[CFG]))
    return out
