"""The probe runner: one probe = one `ahsd-config` command in a fresh copy of a small project.

The template project is the target checkout's `pyproject.toml`, `configs/` and `migrations/`, committed
on `main` of a new git repository. Each probe copies it, runs its setup (plants a file, makes a pull
request branch, ...), runs the command with a deadline, and is flagged on what the README promises
never happens (see FLAGS). Nothing here imports `ahsd_config`: the harness sees only the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

# Each hard flag is a broken promise; SOFT flags are worth reading but not breaks.
FLAGS = {
    "TRACEBACK": "a Python traceback (or an 'Exception ignored' report) on stderr",
    "RC": "an exit status outside the probe's allowed set (default 0, 1, 2)",
    "CHANGED ON FAIL": "the project tree differs after a command that exited 2",
    "LEFTOVER": "a temp file (.NAME.PID.X.tmp), journal or .lock file the command left behind",
    "HANG": "the command ran past the probe's deadline (killed with its process group)",
    "GATE PASS": "`ci` exited 0 while `validate` of a gated config fails",
    "CODE EXECUTED": "a payload's shell command ran (it creates $HOSTILE_PWN)",
    "RAW CONTROL": "a raw control character (ESC and the rest of C0 but tab/newline, DEL, C1) or bidi override "
                   "on stdout or stderr",
    "WROTE OUTSIDE": "a file appeared where only a git option smuggled in an argument could put it",
    "BAD JSON": "stdout of a command asked for `json` or `sarif` is not one JSON document",
    "SETUP": "the probe's own setup failed (a harness artefact, never the product's fault)",
}
SOFT = {"MULTILINE": "exit 2 with more than one unindented stderr line (the house rule: one line)"}

PROBE_TOKEN = "@@PROBE@@"  # in argv and env values: replaced by the probe's folder at run time
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile("\x1b\\[[0-9;]*m")
TEMP_RE = re.compile(r"^\..+\.\d+\..+\.tmp$")
GIT_ID = {"GIT_AUTHOR_NAME": "probe", "GIT_AUTHOR_EMAIL": "probe@example.invalid",
          "GIT_COMMITTER_NAME": "probe", "GIT_COMMITTER_EMAIL": "probe@example.invalid",
          "GIT_CONFIG_NOSYSTEM": "1"}
# The caller's CI or git context must not leak into a probe.
SCRUBBED = ("GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE",
            "NO_COLOR", "FORCE_COLOR")


@dataclass(frozen=True)
class Target:
    """The checkout under attack and where probes run."""

    root: Path
    exe: Path
    work: Path

    @property
    def template(self) -> Path:
        return self.work / "template"

    @property
    def home(self) -> Path:
        return self.work / "home"

    @property
    def runs(self) -> Path:
        return self.work / "runs"

    def text(self, rel: str) -> str:
        return (self.root / rel).read_text()

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        return {**env, **GIT_ID, "HOME": str(self.home)}


def default_work() -> Path:
    return Path(tempfile.gettempdir()) / f"ahsd-hostile-config-{os.getuid()}"


def git(d: Path, *args: str, env: dict | None = None) -> None:
    subprocess.run(["git", "-C", str(d), *args], check=True, capture_output=True,
                   env={**os.environ, **GIT_ID, **(env or {})})


def make_template(target: Target) -> None:
    if target.template.exists():
        shutil.rmtree(target.template)
    target.template.mkdir(parents=True)
    target.home.mkdir(exist_ok=True)
    shutil.copy(target.root / "pyproject.toml", target.template)
    # a lock, journal or temp file of a command running in the checkout right now is not the project's
    transient = shutil.ignore_patterns("*.lock", ".ahsd-journal.json", ".*.tmp")
    for folder in ("configs", "migrations"):
        shutil.copytree(target.root / folder, target.template / folder, ignore=transient)
    env = {"HOME": str(target.home)}
    git(target.template, "init", "-q", "-b", "main", env=env)
    git(target.template, "add", "-A", env=env)
    git(target.template, "commit", "-qm", "base", env=env)


Setup = Callable[[Path], object]
Check = Callable[[Path, subprocess.CompletedProcess], "str | None"]


@dataclass
class Probe:
    kind: str
    name: str
    argv: list  # after the executable; str or bytes items
    setup: Setup | None = None
    env: dict = field(default_factory=dict)
    rcs: tuple = (0, 1, 2)
    gate_validate: list | None = None  # configs `validate` must pass when `ci` passes (None: every configs/ YAML)
    timeout: float = 60
    cwd: str = ""  # relative to the probe's folder
    check: Check | None = None  # an extra check: returns a problem or None
    allow_change: tuple = ()  # paths that may change even on exit 2
    expect: str | None = None  # a substring stderr must hold
    is_gate: bool = False  # run the gate's validate check on exit 0
    stdout: str = "pipe"  # or "closed" (a pipe whose reader is gone: EPIPE) or "full" (/dev/full: ENOSPC)
    shell: str = ""  # shell commands run first in the probe's folder, then `exec` the command (cwd games)


def snapshot(d: Path) -> dict:
    """Every path under d (but .git at the top) -> kind, content hash and mode; never opens a special file."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(d, followlinks=False):
        if Path(dirpath) == d and ".git" in dirnames:
            dirnames.remove(".git")
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            try:
                st = os.lstat(p)
            except OSError:
                continue
            out[str(p.relative_to(d))] = _entry(p, st)
    return out


def _entry(p: Path, st: os.stat_result) -> tuple:
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(p))
    if stat.S_ISREG(st.st_mode):
        try:
            digest = hashlib.sha1(p.read_bytes()).hexdigest()
        except OSError:
            digest = "unreadable"
        return ("file", digest, stat.S_IMODE(st.st_mode))
    if stat.S_ISDIR(st.st_mode):
        return ("dir",)
    return ("special",)


def leftovers(d: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(d):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            if TEMP_RE.match(name) or name == ".ahsd-journal.json" or name.endswith(".lock"):
                found.append(str((Path(dirpath) / name).relative_to(d)))
    return found


def _subst(value, d: Path):
    if isinstance(value, bytes):
        return value.replace(PROBE_TOKEN.encode(), os.fsencode(str(d)))
    return os.fsencode(value.replace(PROBE_TOKEN, str(d)))


def _stdout(kind: str):
    if kind == "pipe":
        return subprocess.PIPE, None
    if kind == "full":
        return open("/dev/full", "wb"), None
    if kind == "closed":
        reader, writer = os.pipe()
        os.close(reader)
        return writer, writer
    raise ValueError(kind)


def run_cmd(target: Target, d: Path, argv: list, env: dict | None = None, timeout: float = 60,
            cwd: Path | None = None, stdout: str = "pipe", shell: str = "") -> subprocess.CompletedProcess:
    """Run the executable in its own process group; on the deadline kill the whole group."""
    args = [os.fsencode(str(target.exe))] + [_subst(a, d) for a in argv]
    if shell:
        args = [b"sh", b"-c", os.fsencode(shell) + b'\nexec "$0" "$@"'] + args
    full_env = {**target.base_env(), "HOSTILE_PWN": str(d / "PWNED")}
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = _subst(value, d).decode("utf-8", "surrogateescape")
    out_target, fd = _stdout(stdout)
    try:
        proc = subprocess.Popen(args, cwd=cwd or d, env=full_env, stdin=subprocess.DEVNULL,
                                stdout=out_target, stderr=subprocess.PIPE, start_new_session=True)
    finally:
        if fd is not None:
            os.close(fd)
        elif out_target is not subprocess.PIPE:
            out_target.close()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(args, proc.returncode, out or b"", err)


# A probe may name, outside its work folder, only "/" and devices. Anything else an argument or a
# path-valued variable names must lie inside the work folder: the harness runs as root on a shared
# machine, and a `../../../../etc/passwd` that climbed out of the probe's folder once got that file
# replaced by a report (the CLI rightly writes where its user points it).
SAFE_OUTSIDE = ("/dev/", "/proc/self/")
PATH_VARIABLES = ("HOME", "TMPDIR", "GIT_DIR", "GITHUB_STEP_SUMMARY", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")


def escapes(target: Target, d: Path, p: "Probe") -> list[str]:
    """The probe's path-like arguments and variables that would reach outside the work folder."""
    values = [os.fsdecode(_subst(a, d)) for a in p.argv]
    values += [os.fsdecode(_subst(v, d)) for k, v in p.env.items() if k in PATH_VARIABLES and v is not None]
    work = os.path.realpath(target.work)
    out = []
    for text in values:
        for candidate in {text, text.partition("=")[2]}:  # --output=PATH spelled as one argument
            if "/" not in candidate and not candidate.startswith(".."):
                continue
            if candidate == "/" or candidate.startswith(SAFE_OUTSIDE):
                continue
            where = os.path.realpath(os.path.join(d / p.cwd, candidate))
            if where != work and not where.startswith(work + os.sep):
                out.append(candidate[:60])
    return out


def _clear(d: Path) -> None:
    if d.exists():
        subprocess.run(["chmod", "-R", "u+rwX", str(d)], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def run_probe(target: Target, p: Probe, slot: str, keep: bool = False) -> dict:
    """Run one probe in runs/<slot>; the folder is removed unless the probe broke or keep is set."""
    d = target.runs / slot
    _clear(d)
    shutil.copytree(target.template, d, symlinks=True)
    result = {"kind": p.kind, "name": p.name, "slot": slot, "rc": None, "problems": [], "soft": [],
              "stderr": "", "stdout": "", "seconds": 0.0}
    try:
        if p.setup:
            p.setup(d)
    except Exception as exc:  # noqa: BLE001 - any setup failure is reported as the harness's own
        result["problems"].append(f"SETUP {exc!r}"[:300])
        return result
    unsafe = escapes(target, d, p)
    if unsafe:
        result["problems"].append(f"SETUP names a path outside the work folder, not run: {unsafe[:2]}")
        return result
    before = snapshot(d)
    started = time.monotonic()
    try:
        proc = run_cmd(target, d, p.argv, p.env, p.timeout, d / p.cwd if p.cwd else d, p.stdout, p.shell)
    except subprocess.TimeoutExpired:
        result["problems"].append(f"HANG (> {p.timeout:.0f} s)")
        result["seconds"] = round(time.monotonic() - started, 2)
        return result
    result["seconds"] = round(time.monotonic() - started, 2)
    result.update(rc=proc.returncode, stderr=proc.stderr.decode("utf-8", "replace")[-1500:],
                  stdout=proc.stdout.decode("utf-8", "replace")[-600:])
    result["problems"] += _problems(target, p, d, proc, before)
    err = proc.stderr.decode("utf-8", "replace")
    lines = [line for line in err.splitlines() if line.strip() and not line[:1].isspace()]
    if proc.returncode == 2 and len(lines) > 1 and not err.startswith("Usage:") and "Traceback" not in err:
        result["soft"].append(f"MULTILINE ({len(lines)})")
    if not (result["problems"] or result["soft"] or keep):
        _clear(d)
    return result


def _problems(target: Target, p: Probe, d: Path, proc: subprocess.CompletedProcess, before: dict) -> list[str]:
    problems = []
    err = proc.stderr.decode("utf-8", "replace")
    if "Traceback (most recent call last)" in err or "Exception ignored" in err:
        problems.append("TRACEBACK")
    if proc.returncode not in p.rcs:
        problems.append(f"RC {proc.returncode}")
    after = snapshot(d)
    if proc.returncode == 2:
        changed = sorted(k for k in set(before) | set(after)
                         if before.get(k) != after.get(k) and not k.startswith(p.allow_change)
                         and k != "PWNED")
        if changed:
            problems.append(f"CHANGED ON FAIL {changed[:4]}")
    left = [x for x in leftovers(d) if x not in before]
    if left:
        problems.append(f"LEFTOVER {left[:4]}")
    if (d / "PWNED").exists():
        problems.append("CODE EXECUTED")
    shown = [stream.decode("utf-8", "replace") for stream in (proc.stdout, proc.stderr)]
    if p.env.get("FORCE_COLOR"):  # colour asked for: the product's own SGR styling is expected
        shown = [SGR.sub("", text) for text in shown]
    raw = sorted({f"U+{ord(c):04X}" for text in shown for c in UNSAFE.findall(text)})
    if raw:
        problems.append(f"RAW CONTROL {raw[:4]}")
    if _json_requested(p.argv) and proc.stdout.strip():
        try:
            json.loads(proc.stdout)
        except ValueError as exc:
            problems.append(f"BAD JSON ({str(exc)[:60]})")
    if p.expect is not None and p.expect not in err:
        problems.append(f"WORDING (want {p.expect!r})")
    if p.check:
        why = p.check(d, proc)
        if why:
            problems.append(why)
    if (p.is_gate or p.gate_validate is not None) and proc.returncode == 0:
        problems += _gate_pass_but_invalid(target, p, d)
    return problems


def _json_requested(argv: list) -> bool:
    """`-f json|sarif` / `--format json|sarif` (as two arguments or `--format=json`) in argv."""
    words = [a for a in argv if isinstance(a, str)]
    pairs = zip(words, words[1:])
    return any(a in ("-f", "--format") and b in ("json", "sarif") for a, b in pairs) or any(
        w in ("--format=json", "--format=sarif") for w in words)


def _gate_pass_but_invalid(target: Target, p: Probe, d: Path) -> list[str]:
    targets = p.gate_validate
    if targets is None:
        targets = sorted(str(x.relative_to(d)) for x in (d / "configs").rglob("*.y*ml")) if (d / "configs").is_dir() else []
    out = []
    for rel in targets:
        v = run_cmd(target, d, ["validate", rel], timeout=p.timeout)
        if v.returncode != 0:
            out.append(f"GATE PASS but validate {rel} rc {v.returncode}")
    return out
