"""Kinds the first review did not cover:

- `env`: a hostile environment (NO_COLOR, TERM=dumb, COLUMNS=1, no HOME, LANG=C, an unusable
  TMPDIR) around a run, a refusal, `doctor`, `evaluate` and `data generate`: same exit code,
  still one error line, no traceback.
- `diskfull`: the file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored, so a write past it fails with
  EFBIG as a full disk fails with ENOSPC) at several sizes under `run`, `data generate` and
  `compare`: exit 2 in one line, run.json in a final state, no temp file, no half-written file.
- `resume`: `--resume` of a folder written by another config (refused without `--force`, the
  checkpoints untouched), and of a folder whose run was signalled mid-`data generate`/`compare`.
- `stop`: SIGINT/SIGTERM at points of `data generate` and `compare`: exit 130 (or the signal's
  own default before the entry point runs), no temp file; `data generate` then resumes to the
  same bytes as an undisturbed generation.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

from harness import TMP_RE, Ctx, Probe, error_lines, sets

KINDS = {"env", "diskfull", "resume", "stop"}
NEEDS = {"run", "project"}

ENVS = {
    "no_color": ({"NO_COLOR": "1"}, ()),
    "term_dumb": ({"TERM": "dumb"}, ()),
    "columns_1": ({"COLUMNS": "1", "LINES": "1"}, ()),
    "no_home": ({}, ("HOME",)),
    "lang_c": ({"LANG": "C", "LC_ALL": "C"}, ("LANGUAGE",)),
    "tmpdir_missing": ({"TMPDIR": "/nonexistent/tmp"}, ()),
    "tmpdir_file": ({"TMPDIR": "/etc/hostname"}, ()),
}
GEN_SETS = sets(["priority_net.use_strain=false", "data.synthetic.max_signals=4"])


def run_state(rel: str = "r"):
    """run.json, when the command made one, ends in a final state."""
    def check(d: Path, res) -> list[str]:
        rj = d / rel / "run.json"
        if not rj.exists():
            return []
        try:
            status = json.loads(rj.read_text()).get("status")
        except (OSError, ValueError):
            return ["RUNJSON:unreadable"]
        return [] if status in ("finished", "failed", "interrupted") else [f"RUNJSON:{status}"]
    return check


def env_probes(ctx: Ctx) -> list[Probe]:
    out = []
    commands = {
        "run": (ctx.run_args("--max-steps", "2", "--out", "{d}/r"), {0}),
        "refusal": (ctx.run_args("--set", "priority_net.batch_size=0", "--out", "{d}/r"), {2}),
        "doctor": (["doctor", str(ctx.base_run)], {0, 1}),
        "evaluate": (["evaluate", str(ctx.base_run)], {0}),
        "generate": (["data", "generate", "--config", str(ctx.cfg), *GEN_SETS, "--scenarios", "20", "--shard-size",
                      "10", "--out", "{d}/ds", "-q"], {0}),
        "missing-config": (["run", "--config", "{d}/nope.yaml", "--out", "{d}/r"], {2}),
    }
    for env_name, (env, unset) in ENVS.items():
        for cmd_name, (args, expect) in commands.items():
            checks = [run_state()] + ([same_text(ctx, args)] if cmd_name not in ("run", "generate") else [])
            out.append(Probe(f"env-{env_name}-{cmd_name}", "env", args, expect=expect, env=env, unset_env=unset,
                             timeout=120, check=all_of(checks), cwd="{d}", one_line=False,
                             fast=cmd_name in ("refusal", "missing-config") and env_name in ("columns_1", "lang_c")))
    return out


def all_of(checks):
    return lambda d, res: [flag for check in checks for flag in check(d, res)]


def same_text(ctx: Ctx, args: list):
    """The command prints the same lines as in a plain environment (a terminal of one column or no
    colour must not wrap, colour or drop a line)."""
    def check(d: Path, res) -> list[str]:
        plain = d / "plain"
        plain.mkdir()
        filled = [a.replace("{d}", str(plain)) for a in args]
        ref = subprocess.run([str(ctx.exe), *filled], cwd=plain, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "COLUMNS": "200"})
        got = (res.stdout + res.stderr).replace(str(d), "{d}")
        want = (ref.stdout + ref.stderr).replace(str(plain), "{d}")
        return [] if got.split() == want.split() and got.count("\n") == want.count("\n") else ["TEXT"]
    return check


def diskfull_probes(ctx: Ctx) -> list[Probe]:
    out = []
    project = str(ctx.fixtures / "project")
    # a limit the command's files all fit under is a success (then the checks judge what it wrote)
    for limit in (0, 1 << 10, 16 << 10, 256 << 10, 1 << 20):
        out.append(Probe(f"diskfull-run-{limit}", "diskfull", ctx.run_args("--max-steps", "4", "--checkpoint-every-steps",
                                                                          "2", "--out", "{d}/r"),
                         fsize=limit, timeout=120, check=run_state(), expect={0, 2}))
        out.append(Probe(f"diskfull-generate-{limit}", "diskfull",
                         ["data", "generate", "--config", str(ctx.cfg), *GEN_SETS, "--scenarios", "200", "--shard-size",
                          "20", "--out", "{d}/ds", "-q"], fsize=limit, timeout=120, check=manifest_whole,
                         expect={0, 2}))
        out.append(Probe(f"diskfull-compare-{limit}", "diskfull",
                         ["compare", "--epochs", "1", "--scenarios", "64", "head", "head", "--out", "{d}/o", "--json"],
                         fsize=limit, timeout=300, cwd=project, check=nothing_left("o"), expect={0, 2}))
    return out


def manifest_whole(d: Path, res) -> list[str]:
    """A manifest, when written, names only shards that exist whole (the sha256 matches)."""
    import hashlib

    m = d / "ds" / "manifest.json"
    if not m.exists():
        return []
    try:
        manifest = json.loads(m.read_text())
        bad = [s["file"] for s in manifest["shards"]
               if hashlib.sha256((d / "ds" / s["file"]).read_bytes()).hexdigest() != s["sha256"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"MANIFEST:{type(exc).__name__}"]
    return ["MANIFEST:" + ",".join(bad)] if bad else []


def nothing_left(rel: str):
    """A failed command leaves its --out as it was (here: absent), but for a run that started
    (its run.json) which the error names."""
    def check(d: Path, res) -> list[str]:
        if res.returncode in (0, "timeout") or not (d / rel).exists():
            return []
        left = sorted(p.name for p in (d / rel).iterdir()
                      if not ((p / "run.json").is_file() and str(p) in res.stderr.replace("\n", "")))
        return ["LEFT:" + ",".join(left[:6])] if left or not any((d / rel).iterdir()) else []
    return check


def resume_probes(ctx: Ctx) -> list[Probe]:
    def copy_run(d: Path) -> None:
        shutil.copytree(ctx.base_run, d / "run", symlinks=True)

    keep = ["run/checkpoints/*", "run/run.json", "run/config.resolved.yaml", "run/metrics.jsonl"]
    out = []
    for label, extra in (("width", "priority_net.hidden_dims=[8]"), ("lr", "priority_net.learning_rate=0.5"),
                         ("strain", "priority_net.use_strain=true"), ("seed", "random_seed=7"),
                         ("scenarios", "data.synthetic.n_scenarios=128")):
        args = ctx.run_args("--set", extra, "--resume", "--epochs", "3", "--out", "{d}/run")
        out.append(Probe(f"resume-other-{label}", "resume", args, setup=copy_run, protect=keep, timeout=120))
        out.append(Probe(f"resume-other-{label}-force", "resume", [*args, "--force"], setup=copy_run, expect={0, 2},
                         timeout=120, one_line=False, check=run_state("run")))
    out.append(Probe("resume-other-config-file", "resume",
                     ["run", "--config", "{d}/other.yaml", "--device", "cpu", "-q", "--resume", "--out", "{d}/run"],
                     setup=lambda d: (copy_run(d), shutil.copy(ctx.cfg, d / "other.yaml")), protect=keep, timeout=120))
    return out


def stop_probes(ctx: Ctx) -> list[Probe]:
    out = []
    gen = ["data", "generate", "--config", str(ctx.cfg), *GEN_SETS, "--scenarios", "3000", "--shard-size", "100",
           "--out", "{d}/ds", "-q"]
    for wait in (0.3, 0.8, 1.5, 2.5, 4.0):
        for sig, name in ((signal.SIGINT, "int"), (signal.SIGTERM, "term")):
            out.append(Probe(f"stop-generate-{name}-{wait}", "stop", gen, signal_after=(lambda d: True, sig, wait),
                             expect={0, 130, -sig}, timeout=120, one_line=False, check=generate_resumes(ctx, gen)))
            out.append(Probe(f"stop-compare-{name}-{wait * 3}", "stop",
                             ["compare", "--epochs", "2", "--scenarios", "256", "head", "head", "--out", "{d}/o",
                              "--json"], signal_after=(lambda d: True, sig, wait * 3), expect={0, 130, -sig},
                             timeout=300, one_line=False, cwd=str(ctx.fixtures / "project"),
                             check=all_of([run_state("o/run-A"), run_state("o/run-B")])))
    return out


def generate_resumes(ctx: Ctx, gen: list):
    """After a stop, the same command finishes the set, and it equals an undisturbed one's bytes."""
    def check(d: Path, res) -> list[str]:
        args = [a.replace("{d}", str(d)) for a in gen]
        again = subprocess.run([str(ctx.exe), *args], capture_output=True, text=True, timeout=300,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
        if again.returncode != 0:
            return [f"RESUME:{again.returncode}:{error_lines(again.stderr)[-1:]}"]
        ref = ctx.fixtures / "generate_reference"
        if not (ref / "manifest.json").exists():
            shutil.rmtree(ref, ignore_errors=True)
            subprocess.run([str(ctx.exe), *[a.replace("{d}/ds", str(ref)) for a in gen]],
                           capture_output=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        differ = [p.name for p in sorted(ref.iterdir()) if not (d / "ds" / p.name).exists()
                  or (d / "ds" / p.name).read_bytes() != p.read_bytes()]
        stray = [p.name for p in (d / "ds").iterdir() if TMP_RE.match(p.name)]
        return (["DIFFER:" + ",".join(differ[:4])] if differ else []) + (["TMPAFTER:" + ",".join(stray)] if stray else [])
    return check


def probes(ctx: Ctx) -> list[Probe]:
    return env_probes(ctx) + diskfull_probes(ctx) + resume_probes(ctx) + stop_probes(ctx)
