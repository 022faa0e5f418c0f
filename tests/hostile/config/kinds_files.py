"""Special files (FIFO, /dev/zero, folder, dangling or looping link, socket, ...) where ahsd-config reads or
writes: the config, report outputs, FILE.bak / FILE.lock, migrations/ and its files, the journal, pyproject.toml.

Kinds: special-in, special-out, out-at-input, bak-lock, migdir, revfile-special, journal, pyproject.
"""

from __future__ import annotations

import datetime
import os
import shutil
import socket
from pathlib import Path

from harness import Probe, Target
from payloads import CFG

HEAD_FILE = "migrations/2026-11-30_v261130.yaml"  # a landed revision file planted over
KINDS_IN = ["fifo", "devzero", "dir", "dangling", "loop", "loop2", "socket", "empty", "devnull", "unreadable"]
KINDS_OUT = ["fifo", "devzero", "devfull", "dir", "dir-nonempty", "dangling", "loop", "socket", "readonly",
             "devnull", "link-to-config"]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def make(kind: str, path: Path) -> None:
    """Replace path by a special file of this kind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove(path)
    links = {"devzero": "/dev/zero", "devfull": "/dev/full", "devnull": "/dev/null",
             "dangling": "nowhere-" + path.name, "loop": path.name}
    if kind in links:
        path.symlink_to(links[kind])
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind in ("dir", "dir-nonempty"):
        path.mkdir()
        if kind == "dir-nonempty":
            (path / "x").write_text("x")
    elif kind == "loop2":
        (path.parent / (path.name + ".b")).symlink_to(path.name)
        path.symlink_to(path.name + ".b")
    elif kind == "socket":
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(path))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "unreadable":  # as root this is still readable: the probe then checks an empty-ish config
        path.write_text("priority_net: {}\n")
        os.chmod(path, 0)
    elif kind == "readonly":
        path.write_text("x\n")
        os.chmod(path, 0o444)
    elif kind == "link-to-config":
        path.symlink_to(os.path.relpath(path.parent.parent / CFG if path.parent.name != "configs"
                                        else path.parent / Path(CFG).name, path.parent))
    else:
        raise ValueError(kind)


def steps(*fns):
    def setup(d: Path):
        for fn in fns:
            fn(d)
    return setup


def mk(kind: str, rel: str):
    return lambda d: make(kind, d / rel)


def write(rel: str, data):
    """Write data (bytes, str, or a function of the probe folder giving either) at rel."""
    def setup(d: Path):
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        _remove(p)
        value = data(d) if callable(data) else data
        p.write_bytes(value if isinstance(value, bytes) else value.encode())
    return setup


def link_config(d: Path) -> None:
    (d / "link.yaml").symlink_to(CFG)


def cfg_not_overwritten(d: Path, proc) -> str | None:
    text = (d / CFG).read_text(errors="replace") if (d / CFG).is_file() else ""
    return None if "priority_net" in text else "CONFIG OVERWRITTEN"


def pyproject_kept(d: Path, proc) -> str | None:
    return None if (d / "pyproject.toml").is_file() else "PYPROJECT MOVED"


def _special_in() -> list[Probe]:
    cmds = [("validate", ["validate", "x.yaml"]), ("validate-json", ["validate", "x.yaml", "-f", "json"]),
            ("current", ["current", "x.yaml"]), ("migrate", ["migrate", "x.yaml"]),
            ("stamp", ["stamp", "x.yaml", "head"]), ("revision", ["revision", "-m", "t", "--from", "x.yaml", "--id", "vz"]),
            ("diff", ["diff", "x.yaml", "head"]), ("diff-b", ["diff", "head", "x.yaml"]),
            ("glob", ["validate", "configs/*.yaml", "x.yaml"])]
    return [Probe("special-in", f"{kind} config :: {cmd}", argv, mk(kind, "x.yaml"), timeout=30)
            for kind in KINDS_IN for cmd, argv in cmds]


def _special_out() -> list[Probe]:
    out = []
    for kind in KINDS_OUT:
        for label, argv, env in [("validate -o", ["validate", CFG, "-o", "o.json"], {}),
                                 ("schema -o", ["schema", "-o", "o.json"], {}),
                                 ("schema --check", ["schema", "-o", "o.json", "--check"], {}),
                                 ("ci --sarif", ["ci", "--base", "main", "--sarif", "o.json"], {}),
                                 ("ci --summary", ["ci", "--base", "main", "--summary", "o.json"], {}),
                                 ("GITHUB_STEP_SUMMARY", ["ci", "--base", "main"], {"GITHUB_STEP_SUMMARY": "o.json"})]:
            out.append(Probe("special-out", f"{label} {kind}", argv, mk(kind, "o.json"), env=env, timeout=30,
                             check=cfg_not_overwritten))
    for opt in (["validate", CFG, "-o"], ["schema", "-o"], ["ci", "--base", "main", "--sarif"],
                ["ci", "--base", "main", "--summary"]):
        for where in ["afile/x.json", "", ".", "/", "configs", "configs/", "-", "--", "a" * 300, "x/" * 200 + "y",
                      "/proc/self/mem", "/dev/stdout", "nonexist/deep/x.json"]:
            out.append(Probe("special-out", f"{opt[0]} {opt[-1]} {where[:30]!r}", opt + [where], write("afile", "x"),
                             timeout=30, check=cfg_not_overwritten, allow_change=("nonexist",)))
    return out


def _out_at_input() -> list[Probe]:
    out = []
    for opt in (["ci", "--base", "main", "--sarif"], ["ci", "--base", "main", "--summary"]):
        for where in [CFG, "./" + CFG, "configs/../" + CFG, "migrations/2025-11-11_v11.yaml", "pyproject.toml", "link.yaml"]:
            out.append(Probe("out-at-input", f"{opt[-1]} {where}", opt + [where], link_config, timeout=30, rcs=(2,),
                             check=cfg_not_overwritten))
        out.append(Probe("out-at-input", f"GITHUB_STEP_SUMMARY={CFG}", ["ci", "--base", "main"], None,
                         env={"GITHUB_STEP_SUMMARY": CFG}, rcs=(2,), timeout=30))
    for where in [CFG, "./" + CFG, "link.yaml", "migrations/2025-11-11_v11.yaml"]:
        out.append(Probe("out-at-input", f"validate -o {where}", ["validate", CFG, "-o", where], link_config,
                         rcs=(2,), timeout=30))
        out.append(Probe("out-at-input", f"schema -o {where}", ["schema", "-o", where], link_config, rcs=(2,), timeout=30))
    return out


def _bak_lock() -> list[Probe]:
    out = []
    for suffix in (".bak", ".lock"):
        for kind in ["fifo", "devzero", "devfull", "dir", "dir-nonempty", "dangling", "loop", "socket", "readonly", "devnull"]:
            for cmd, argv in [("migrate", ["migrate", CFG, "--to", "v261129b"]), ("stamp", ["stamp", CFG, "v11"]),
                              ("revision", ["revision", "-m", "t", "--from", CFG, "--id", "vz"])]:
                # FILE.lock is the command's own lock path: a stale one (no process holds it) is taken and
                # removed by the next holder, even by a command that then fails: by design
                out.append(Probe("bak-lock", f"{suffix} {kind} :: {cmd}", argv, mk(kind, CFG + suffix), timeout=30,
                                 allow_change=(CFG + ".lock",) if suffix == ".lock" else ()))
    for kind in ["fifo", "dir", "dangling", "loop", "devzero"]:
        for cmd, argv in [("squash", ["squash", "v260702", "v260707"]), ("heads", ["heads"])]:
            out.append(Probe("bak-lock", f"migrations/.ahsd.lock {kind} :: {cmd}", argv, mk(kind, "migrations/.ahsd.lock"),
                             timeout=30))
    return out


MIG_CMDS = [("heads", ["heads"]), ("history", ["history"]), ("show", ["show", "head"]), ("current", ["current", CFG]),
            ("migrate", ["migrate", CFG, "--to", "v11"]), ("revision", ["revision", "-m", "t", "--from", CFG, "--id", "vz"]),
            ("squash", ["squash", "v260702", "v260707"]), ("check", ["check-migrations"]),
            ("log", ["log", "priority_net.batch_size"]), ("diff", ["diff", "v11", "head"]), ("validate", ["validate", CFG])]


def _migdir(target: Target) -> list[Probe]:
    out = [Probe("migdir", f"migrations={kind} :: {cmd}", argv, mk(kind, "migrations"), timeout=30)
           for kind in ["fifo", "devzero", "dangling", "loop", "empty", "dir-nonempty"] for cmd, argv in MIG_CMDS]
    edited = target.text(CFG).replace("batch_size: 128", "batch_size: 96", 1)
    new_file = f"migrations/{datetime.date.today().isoformat()}_vz.yaml"
    for kind in ["fifo", "devzero", "dir", "dangling", "loop", "socket", "empty", "unreadable"]:
        out += [Probe("revfile-special", f"{Path(HEAD_FILE).name}={kind} :: {cmd}", argv, mk(kind, HEAD_FILE), timeout=30)
                for cmd, argv in MIG_CMDS]
        out.append(Probe("revfile-special", f"new revision file {kind} :: revision",
                         ["revision", "-m", "t", "--from", CFG, "--id", "vz"],
                         steps(write(CFG, edited), mk(kind, new_file)), timeout=30))
    return out


JOURNALS = {
    "garbage": b"{not json", "list": b"[]", "empty": b"", "missing-keys": b"{}",
    "escape-write": b'{"writes": {"2025-11-11_v11.yaml": "../pyproject.toml"}, "removes": []}',
    "escape-remove": b'{"writes": {}, "removes": ["../pyproject.toml"]}',
    "abs-write": lambda d: '{"writes": {"x.yaml": "%s"}, "removes": []}' % (d / "victim.txt"),
    "wrong-types": b'{"writes": [1], "removes": 5}',
    "surrogate": b'{"writes": {"\\udcff": "x"}, "removes": []}',
}


def _journal() -> list[Probe]:
    out = []
    for name, data in JOURNALS.items():
        for cmd, argv in [("heads", ["heads"]), ("squash", ["squash", "v260702", "v260707"]), ("check", ["check-migrations"]),
                          ("migrate", ["migrate", CFG, "--to", "v11"])]:
            out.append(Probe("journal", f"journal {name} :: {cmd}", argv, write("migrations/.ahsd-journal.json", data),
                             timeout=30, check=pyproject_kept))
    for kind in ["dir", "fifo", "devzero", "dangling", "loop"]:
        out.append(Probe("journal", f"journal {kind} :: heads", ["heads"], mk(kind, "migrations/.ahsd-journal.json"), timeout=30))
        out.append(Probe("journal", f"journal {kind} :: squash", ["squash", "v260702", "v260707"],
                         mk(kind, "migrations/.ahsd-journal.json"), timeout=30))
    return out


PYPROJECTS = {
    "dir": None, "fifo": None, "devzero": None, "dangling": None, "loop": None,
    "garbage": b"[tool.ahsd\nmigrations = ", "latin1": b"[tool.ahsd]\nmigrations = \"m\xe9\"\n",
    "mig-int": b"[tool.ahsd]\nmigrations = 5\n", "mig-abs": lambda d: f'[tool.ahsd]\nmigrations = "{d.parent.parent / "abs-migrations"}"\n',
    "mig-up": b"[tool.ahsd]\nmigrations = \"../..\"\n", "mig-configs": b"[tool.ahsd]\nmigrations = \"configs\"\n",
    "mig-dash": b"[tool.ahsd]\nmigrations = \"--output=x\"\n", "mig-nul": b"[tool.ahsd]\nmigrations = \"a\\u0000b\"\n",
    "mig-surrogate": b"[tool.ahsd]\nmigrations = \"\\udcff\"\n",
    "globs-int": b"[tool.ahsd]\nconfig_globs = [1]\n", "globs-empty": b"[tool.ahsd]\nconfig_globs = []\n",
    "globs-abs": b"[tool.ahsd]\nconfig_globs = [\"/etc/*\"]\n", "globs-up": b"[tool.ahsd]\nconfig_globs = [\"../**/*.yaml\"]\n",
    "globs-star": b"[tool.ahsd]\nconfig_globs = [\"**\"]\n", "globs-empty-str": b"[tool.ahsd]\nconfig_globs = [\"\"]\n",
    "globs-dash": b"[tool.ahsd]\nconfig_globs = [\"--help\"]\n",
    "tool-ahsd-str": b"[tool]\nahsd = \"x\"\n", "default-config-dir": b"[tool.ahsd]\ndefault_config = \"configs\"\n",
    "huge": b"[tool.ahsd]\n" + b"# x\n" * 3_000_000, "unknown-key": b"[tool.ahsd]\nfail_on = \"never\"\n",
}


def _pyproject() -> list[Probe]:
    out = []
    for name, data in PYPROJECTS.items():
        setup = mk(name, "pyproject.toml") if data is None else write("pyproject.toml", data)
        for cmd, argv in [("validate", ["validate"]), ("validate-file", ["validate", CFG]), ("heads", ["heads"]),
                          ("migrate", ["migrate", CFG, "--to", "v11"]),
                          ("revision", ["revision", "-m", "t", "--from", CFG, "--id", "vz"]),
                          ("schema", ["schema"]), ("check", ["check-migrations"]), ("ci-head", ["ci", "--base", "main"])]:
            out.append(Probe("pyproject", f"{name} :: {cmd}", argv, setup, timeout=60))
    return out


def probes(target: Target) -> list[Probe]:
    return (_special_in() + _special_out() + _out_at_input() + _bak_lock() + _migdir(target) + _journal()
            + _pyproject())
