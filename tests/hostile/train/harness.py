"""The probe runner: one probe = a fresh work folder, a setup, one `ahsd-train` command in a
subprocess with a deadline, then checks. A probe *holds* when no flag is raised.

Flags (what each one means is a promise of the README's "Reliability" table broken):
  TB       a Python traceback on stdout or stderr (bad input is one line, never a traceback)
  RC       an exit code outside the documented set 0, 1, 2, 130 (a signal the probe did not send
           killed it, or an exit code nobody documents)
  RC?      a documented exit code the probe did not expect (bad input accepted: exit 0 where the
           refusal, exit 2, was due; or a refusal of good input)
  HANG     the deadline passed (the command was killed)
  CODE     the marker file appeared: a pickle or YAML tag planted by the probe executed code
  TMP      a hidden temp file (`.NAME.PID.X.tmp`) of a writer is left after the command
  CHG      a protected file changed although the command failed (exit 2)
  HALF     a JSON file the command wrote or changed does not read back, or a JSONL file it wrote
           has a line other than the last that does not
  MSG      an exit-2 refusal that is not one line (the usage frame of a usage error aside)
  plus each probe's own check (CREATED, RUNNING, NOLAST, RESUME, TMPAFTER, CODES, RUNDIR ...).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

TMP_RE = re.compile(r"^\..+\.\d+\..*tmp$")
DOCUMENTED = {0, 1, 2, 130}
# The usage frame click prints around a usage error's one line ("Error: ..."): not extra lines.
USAGE_FRAME = ("Usage:", "Try '")
MEMORY_CAP = 6 << 30  # a probe that reads /dev/zero must not bring the OOM killer onto a shared box
TINY = ["priority_net.hidden_dims=[32, 16]", "priority_net.use_strain=false", "priority_net.batch_size=16",
        "priority_net.epochs=2", "priority_net.warmup_epochs=1", "data.synthetic.n_scenarios=96",
        "data.synthetic.max_signals=4", "data.synthetic.test_scenarios=64", "output.generate_plots=false"]


def sets(items: Sequence[str]) -> list[str]:
    return [a for item in items for a in ("--set", item)]


@dataclass(frozen=True)
class Ctx:
    """Where a pass runs: the project, its executables, the work folder and its fixtures."""

    root: Path  # the project checkout (its configs/ and migrations/)
    bin: Path  # the folder holding ahsd-train, ahsd-config and python
    work: Path

    @property
    def exe(self) -> Path:
        return self.bin / "ahsd-train"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def cfg(self) -> Path:
        return self.root / "configs" / "enhanced_training.yaml"

    @property
    def fixtures(self) -> Path:
        return self.work / "fixtures"

    @property
    def base_run(self) -> Path:
        return self.fixtures / "base_run"

    @property
    def base_ds(self) -> Path:
        return self.fixtures / "base_ds"

    @property
    def probes_dir(self) -> Path:
        return self.work / "probes"

    @property
    def marker(self) -> Path:
        """Created by every planted payload; its existence means code ran (never removed mid-pass)."""
        return self.work / "PWNED"

    def touch_marker(self) -> str:
        return f"touch {self.marker}"

    def run_args(self, *extra: str) -> list[str]:
        return ["run", "--config", str(self.cfg), "--device", "cpu", *sets(TINY), "-q", *extra]


@dataclass
class Probe:
    name: str
    kind: str
    args: list  # argv after the executable; "{d}" stands for the probe's work folder
    setup: Optional[Callable[[Path], None]] = None
    expect: set = field(default_factory=lambda: {2})
    protect: list = field(default_factory=list)  # globs under the work folder kept on a failure
    timeout: float = 90
    check: Optional[Callable[[Path, subprocess.CompletedProcess], list]] = None
    # (condition(d) -> bool, signal, wait[, count, gap]): send the signal once the condition holds
    signal_after: Optional[tuple] = None
    env: dict = field(default_factory=dict)
    unset_env: tuple = ()
    cwd: Optional[str] = None  # default: the probe's work folder; "{root}" is the project
    one_line: bool = True
    fast: bool = False  # needs no fixture and no training: the pytest smoke set
    needs: set = field(default_factory=set)  # fixtures: "run", "ds", "configs", "project"
    fsize: Optional[int] = None  # RLIMIT_FSIZE in bytes: a write past it fails (EFBIG), as on a full disk


def digest(d: Path, globs: Sequence[str]) -> dict:
    out: dict = {}
    for g in globs:
        for p in sorted(d.glob(g)):
            try:
                if p.is_symlink() or not p.is_file():
                    out[str(p)] = ("special", os.readlink(p) if p.is_symlink() else p.stat().st_mode)
                elif p.stat().st_size > 100_000_000:
                    out[str(p)] = ("big", p.stat().st_size, p.stat().st_mtime_ns)
                else:
                    out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            except OSError as exc:
                out[str(p)] = ("err", str(exc))
    return out


def snapshot(d: Path) -> dict:
    """(size, mtime) of every regular file: what the setup planted, so HALF judges only what the
    command itself wrote (a probe's planted garbage is not the command's half-written file)."""
    out = {}
    for p in d.rglob("*"):
        try:
            if not p.is_symlink() and p.is_file():
                st = p.stat()
                out[str(p)] = (st.st_size, st.st_mtime_ns)
        except OSError:
            continue
    return out


def half_written(d: Path, before: dict) -> list[str]:
    bad = []
    for path, now in snapshot(d).items():
        if before.get(path) == now or now[0] > 50_000_000:
            continue
        p = Path(path)
        try:
            if p.suffix == ".json":
                json.loads(p.read_text())
            elif p.suffix == ".jsonl":
                for line in p.read_text().splitlines()[:-1]:  # a torn last line is allowed
                    json.loads(line)
        except (OSError, ValueError) as exc:
            bad.append(f"{p}: {type(exc).__name__}")
    return bad


def _limits(fsize: Optional[int]):
    def apply() -> None:
        # a pass started in the background (nohup, `&`) has SIGINT ignored, and an ignored signal
        # stays ignored across exec: the command would never see the probe's Ctrl-C
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
        if fsize is not None:
            # ignored, SIGXFSZ turns a write past the limit into an EFBIG error (inherited over exec)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    return apply


def _fill(a, d: Path, ctx: Ctx):
    return a.replace("{d}", str(d)).replace("{root}", str(ctx.root)) if isinstance(a, str) else a


def error_lines(err: str) -> list[str]:
    """stderr less what is not an error line: warnings, hints, click's usage frame, and the run's
    header (`training CONFIG ...: ... -> DIR`, printed before the run folder is examined)."""
    return [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("warning", "    hint", *USAGE_FRAME))
            and not (ln.startswith("training ") and " -> " in ln)]


def probe_env(p: Probe) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1", "COLUMNS": "200",
           **p.env}
    for key in p.unset_env:
        env.pop(key, None)
    return env


def _send_signals(proc: subprocess.Popen, p: Probe, d: Path) -> None:
    cond, sig, wait, *repeat = p.signal_after
    count, gap = (repeat + [1, 0.0])[:2] if repeat else (1, 0.0)
    deadline = time.monotonic() + p.timeout
    while not cond(d) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(wait)
    for i in range(count):
        if i:
            time.sleep(gap)
        if proc.poll() is None:
            proc.send_signal(sig)


def _exit_flags(p: Probe, rc) -> list[str]:
    if rc == "timeout":
        return ["HANG"]
    sent = {-p.signal_after[1]} if p.signal_after else set()
    if rc not in DOCUMENTED and rc not in sent:
        return ["RC"]
    if rc not in p.expect:
        return ["RC?"]
    return []


def clean(d: Path) -> None:
    if d.exists() or d.is_symlink():
        subprocess.run(["chmod", "-R", "u+rwx", str(d)], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def run_probe(p: Probe, ctx: Ctx, keep: bool = False) -> dict:
    d = ctx.probes_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", p.name)
    clean(d)
    d.mkdir(parents=True)
    if p.setup:
        p.setup(d)
    before = digest(d, p.protect)
    planted = snapshot(d)
    args = [_fill(a, d, ctx) for a in p.args]
    cwd = _fill(p.cwd, d, ctx) if p.cwd else str(d)
    t0 = time.monotonic()
    proc = subprocess.Popen([str(ctx.exe), *args], cwd=cwd, env=probe_env(p),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_limits(p.fsize))
    try:
        if p.signal_after:
            _send_signals(proc, p, d)
        out, err = proc.communicate(timeout=p.timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = "timeout"
    secs = time.monotonic() - t0
    out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    flags = ["TB"] if "Traceback" in err or "Traceback" in out else []
    flags += _exit_flags(p, rc)
    if ctx.marker.exists():
        flags.append("CODE")
    extra = [str(q) for q in d.rglob(".*") if TMP_RE.match(q.name)]
    if extra and not (p.signal_after and p.signal_after[1] == signal.SIGKILL):
        flags.append("TMP")
    if rc == 2 and p.protect:
        after = digest(d, p.protect)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if changed:
            flags.append("CHG")
            extra += changed
    half = half_written(d, planted)
    if half:
        flags.append("HALF")
        extra += half
    if rc == 2 and p.one_line and len(error_lines(err)) > 1:
        flags.append("MSG")
    if p.check:
        flags += p.check(d, subprocess.CompletedProcess(args, rc, out, err))
    result = {"name": p.name, "kind": p.kind, "rc": rc, "flags": flags, "secs": round(secs, 1),
              "err": err.strip().splitlines()[-3:] if err.strip() else [], "extra": extra[:8]}
    if not keep and not flags:
        clean(d)
    return result
