"""Kind `signal`: SIGTERM, SIGINT and SIGKILL at process start, after N steps and during a
checkpoint save, once, twice and three times; then a `--resume` of the folder must work (or, when
the signal came before the run folder existed, refuse in one line) and sweep every temp file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from harness import TMP_RE, Ctx, Probe, TINY, error_lines, sets

KINDS = {"signal"}
NEEDS: set = set()


def long_run(ctx: Ctx) -> list[str]:
    """The tiny run with 200 epochs: long enough that every signal lands inside it."""
    items = [s for s in TINY if not s.startswith("priority_net.epochs=")] + ["priority_net.epochs=200"]
    return ["run", "--config", str(ctx.cfg), "--device", "cpu", *sets(items), "-q"]


def steps(d: Path) -> int:
    try:
        return (d / "r" / "metrics.jsonl").read_text().count('"kind": "step"')
    except OSError:
        return 0


def saving(d: Path) -> bool:
    """A checkpoint save is in flight: a staged temp file exists."""
    try:
        return any(TMP_RE.match(p.name) for p in (d / "r" / "checkpoints").iterdir())
    except OSError:
        return False


def after_check(ctx: Ctx, sig: int):
    def check(d: Path, res) -> list[str]:
        flags = []
        rj, ck = d / "r" / "run.json", d / "r" / "checkpoints"
        started = rj.exists()
        try:
            status = json.loads(rj.read_text()).get("status") if started else None
        except (OSError, ValueError) as exc:
            status = f"unreadable {type(exc).__name__}"
        if sig != signal.SIGKILL and status == "running":
            flags.append("RUNNING")
        had = (ck / "last.prev.pt").exists() or (ck / "last.pt").exists()
        if had and not (ck / "last.pt").exists():
            flags.append("NOLAST")
        resume = subprocess.run([str(ctx.exe), *long_run(ctx), "--resume", "--out", str(d / "r"),
                                 "--max-steps", str(steps(d) + 3)],
                                env={**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"},
                                capture_output=True, text=True, timeout=180)
        # before run.json exists there is nothing to resume: then one refusal line is the answer
        want = 0 if started else 2
        if resume.returncode != want or "Traceback" in resume.stderr or (want == 2 and len(error_lines(resume.stderr)) != 1):
            flags.append(f"RESUME:{resume.returncode}:{resume.stderr.strip().splitlines()[-1:]}")
        left = [p.name for p in ck.iterdir() if TMP_RE.match(p.name)] if ck.is_dir() else []
        if left:
            flags.append("TMPAFTER:" + ",".join(left))
        return flags
    return check


def probes(ctx: Ctx) -> list[Probe]:
    long = long_run(ctx)
    out = []

    def add(name, args, cond, sig, *repeat, expect):
        out.append(Probe(name, "signal", [*long, *args, "--out", "{d}/r"], signal_after=(cond, sig, 0.0, *repeat),
                         expect=expect, timeout=180, check=after_check(ctx, sig), one_line=False))

    every3, every1 = ["--checkpoint-every-steps", "3"], ["--checkpoint-every-steps", "1"]
    for sig, name in ((signal.SIGTERM, "term"), (signal.SIGINT, "int"), (signal.SIGKILL, "kill")):
        stopped = {-9} if sig == signal.SIGKILL else {130}
        for n in (1, 7, 20):
            add(f"sig-{name}-after-{n}-steps", every3, lambda d, n=n: steps(d) >= n, sig, expect=stopped)
        for k in (0, 2):
            add(f"sig-{name}-during-save-{k}", every1, lambda d, k=k: saving(d) and steps(d) >= 2 + 3 * k, sig,
                expect=stopped)
    # at process start: before Python runs its first line the default action of the signal is all
    # there is (exit -2/-15, nothing written); from the entry point on, one line and exit 130
    for w in (0.0, 0.2, 0.5, 1.0, 2.0):
        for sig, nm in ((signal.SIGINT, "int"), (signal.SIGTERM, "term")):
            out.append(Probe(f"sig-{nm}-start-{w}", "signal", [*long, "--out", "{d}/r"], signal_after=(lambda d: True, sig, w),
                             expect={130, -sig}, timeout=60, check=after_check(ctx, sig), one_line=False))
    for gap in (0.0, 0.05):
        for n in (1, 4):
            add(f"sig-double-int-steps{n}-gap{gap}", ["--checkpoint-every-steps", "2"],
                lambda d, n=n: steps(d) >= n, signal.SIGINT, 2, gap, expect={130})
        for k in (0, 2):
            add(f"sig-double-int-save{k}-gap{gap}", every1, lambda d, k=k: saving(d) and steps(d) >= 2 + 2 * k,
                signal.SIGINT, 2, gap, expect={130})
        add(f"sig-triple-int-save-gap{gap}", every1, lambda d: saving(d) and steps(d) >= 3, signal.SIGINT, 3, gap,
            expect={130})
        add(f"sig-double-term-save-gap{gap}", every1, lambda d: saving(d) and steps(d) >= 3, signal.SIGTERM, 2, gap,
            expect={130})
    return out
