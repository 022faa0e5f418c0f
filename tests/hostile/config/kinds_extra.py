"""Kinds the first hostile round did not cover.

- options: every command's every argument and option (as `--help` lists them) given each bad value kind.
- env: the environment (NO_COLOR, TERM=dumb, COLUMNS=1, no HOME, LANG=C, a deleted or unreadable cwd, no git
  on PATH, ...) under the commands that print, write or call git.
- stdio: stdout a pipe nobody reads (`ahsd-config history | head -0`) or a full disk (/dev/full).
- ci-git: git oddities under the gate (shallow clone, detached HEAD, a missing base, a submodule, config
  names with spaces or newlines, a config that is a symlink into .git, no repository at all).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness import Probe, Target, git
from payloads import CFG, head_rev

REV = "migrations/2025-11-11_v11.yaml"

# value kind -> the value (str, or bytes for what is not UTF-8)
BAD_VALUES: dict[str, str | bytes] = {
    "empty": "", "space": " ", "dash": "-x", "double-dash": "--", "long": "x" * 100_000,
    "newline": "a\nb", "cr": "a\rb", "esc": "\x1b[2J\x1b]0;pwn\x07", "bidi": "a\u202eb", "zero-width": "\u200b",
    "not-utf8": b"\xff\xfe", "nfd": "cafe\u0301", "dot": ".", "root": "/", "dev-zero": "/dev/zero",
    "glob": "**/*", "percent": "%s%n{0}",
    "traversal": "../../outside.yaml",  # climbs out of the project (into the work folder: see harness.escapes)
}

# (command, the parameter's name in the CLI, argv with its value as "{}"): every value-taking argument
# and option of every command; tests/test_hostile_harness.py checks the list against the CLI's own.
OPTION_SLOTS: list[tuple[str, str, list[str]]] = [
    ("validate", "paths", ["validate", "{}"]), ("validate", "format", ["validate", CFG, "-f", "{}"]),
    ("validate", "fail_on", ["validate", CFG, "--fail-on", "{}"]), ("validate", "output", ["validate", CFG, "-o", "{}"]),
    ("explain", "subject", ["explain", "{}"]), ("schema", "output", ["schema", "-o", "{}"]),
    ("migrate", "file", ["migrate", "{}"]), ("migrate", "to", ["migrate", CFG, "--to", "{}"]),
    ("migrate", "on_conflict", ["migrate", CFG, "--to", "v11", "--on-conflict", "{}"]),
    ("stamp", "file", ["stamp", "{}", "head"]), ("stamp", "revision", ["stamp", CFG, "{}"]), ("current", "file", ["current", "{}"]),
    ("revision", "message", ["revision", "-m", "{}", "--from", CFG, "--id", "vo1"]),
    ("revision", "source", ["revision", "-m", "t", "--from", "{}", "--id", "vo1"]),
    ("revision", "rev_id", ["revision", "-m", "t", "--from", CFG, "--id", "{}"]),
    ("squash", "start", ["squash", "{}", "v260707"]), ("squash", "end", ["squash", "v260702", "{}"]),
    ("squash", "message", ["squash", "v260702", "v260707", "-m", "{}"]),
    ("merge", "rev1", ["merge", "{}", "head", "-m", "t"]), ("merge", "rev2", ["merge", "v260702", "{}", "-m", "t"]),
    ("merge", "message", ["merge", "v260702", "head", "-m", "{}"]),
    ("merge", "rev_id", ["merge", "v260702", "head", "-m", "t", "--id", "{}"]),
    ("history", "rng", ["history", "-r", "{}"]), ("show", "revision", ["show", "{}"]), ("log", "key", ["log", "{}"]),
    ("diff", "a", ["diff", "{}", "head"]), ("diff", "b", ["diff", "v11", "{}"]),
    ("diff", "fmt", ["diff", "v11", "head", "--format", "{}"]), ("check-migrations", "directory", ["check-migrations", "{}"]),
    ("ci", "base", ["ci", "--base", "{}"]), ("ci", "head", ["ci", "--base", "main", "--head", "{}"]),
    ("ci", "fmt", ["ci", "--base", "main", "--format", "{}"]), ("ci", "sarif", ["ci", "--base", "main", "--sarif", "{}"]),
    ("ci", "summary", ["ci", "--base", "main", "--summary", "{}"]), ("ci", "repo", ["ci", "--base", "main", "--repo", "{}"]),
]


def _edited(target: Target, value: str = "96"):
    text = target.text(CFG).replace("  batch_size: 128", f"  batch_size: {value}", 1)

    def setup(d: Path):
        (d / CFG).write_text(text)
    return setup


def _pr(target: Target, value: str = "6"):
    text = target.text(CFG).replace("  batch_size: 128", f"  batch_size: {value}", 1)

    def setup(d: Path):
        git(d, "checkout", "-qb", "pr")
        (d / CFG).write_text(text)
        git(d, "commit", "-qam", "pr")
    return setup


def option_probes(target: Target) -> list[Probe]:
    out = []
    for command, param, argv in OPTION_SLOTS:
        setup = _pr(target, "6") if command == "ci" else _edited(target)
        for kind, value in BAD_VALUES.items():
            filled = [value if a == "{}" else a for a in argv]
            out.append(Probe("options", f"{command} {param} = {kind}", filled, setup, timeout=60,
                             is_gate=argv[:2] == ["ci", "--base"] and "{}" not in argv[:3]))
    return out


UNICODE_KEY = "  batch_size: 6\n  \u00e9t\u00e9_\u202e\u4e2d: 1"  # a bad value and a non-ASCII unknown key

ENVS: dict[str, dict] = {
    "NO_COLOR": {"NO_COLOR": "1"}, "FORCE_COLOR": {"FORCE_COLOR": "1", "TERM": "xterm-256color"},
    "TERM=dumb": {"TERM": "dumb"}, "COLUMNS=1": {"COLUMNS": "1"}, "COLUMNS=abc": {"COLUMNS": "abc"},
    "COLUMNS=-5": {"COLUMNS": "-5"}, "LINES=0": {"LINES": "0", "COLUMNS": "0"},
    "no HOME": {"HOME": None}, "HOME missing": {"HOME": "@@PROBE@@/no-such-home"},
    "LANG=C": {"LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0"}, "LC_ALL=POSIX": {"LC_ALL": "POSIX", "PYTHONUTF8": "0"},
    "PYTHONIOENCODING=ascii": {"PYTHONIOENCODING": "ascii"}, "LC_ALL=tr_TR": {"LC_ALL": "tr_TR.UTF-8"},
    "TMPDIR missing": {"TMPDIR": "@@PROBE@@/no-such-tmp"}, "TMPDIR a file": {"TMPDIR": "@@PROBE@@/pyproject.toml"},
    "no git on PATH": {"PATH": "/nonexistent"}, "GIT_DIR elsewhere": {"GIT_DIR": "@@PROBE@@/no-such/.git"},
    "GITHUB_ACTIONS": {"GITHUB_ACTIONS": "true"}, "PYTHONWARNINGS=error": {"PYTHONWARNINGS": "error"},
}
ENV_CMDS = [("validate ok", ["validate", CFG], None), ("validate bad+unicode", ["validate", CFG], UNICODE_KEY),
            ("validate json", ["validate", CFG, "-f", "json"], UNICODE_KEY),
            ("migrate", ["migrate", CFG, "--to", "v11"], None), ("revision", ["revision", "-m", "t", "--from", CFG, "--id", "ve1"], "  batch_size: 96"),
            ("history", ["history"], None), ("explain", ["explain", "AHSD101"], None),
            ("diff", ["diff", "v11", "head"], None), ("ci", ["ci", "--base", "main"], "pr"), ("--help", ["--help"], None)]


def _cfg_with(target: Target, text: str | None):
    """None: the project as it is; "pr": a pull request setting batch_size 6; else the batch_size line's
    replacement."""
    if text is None:
        return None
    if text == "pr":
        return _pr(target, "6")
    body = target.text(CFG).replace("  batch_size: 128", text, 1)

    def setup(d: Path):
        (d / CFG).write_text(body)
    return setup


def env_probes(target: Target) -> list[Probe]:
    out = []
    for env_name, env in ENVS.items():
        for label, argv, edit in ENV_CMDS:
            out.append(Probe("env", f"{env_name} :: {label}", argv, _cfg_with(target, edit), env=env, timeout=60,
                             is_gate=argv[0] == "ci"))
    cwd_games = {
        "cwd deleted": "mkdir gone && cd gone && rmdir ../gone",
        "cwd unreadable": "mkdir -m 0 sealed && cd sealed",
        "cwd is configs": "cd configs",
        "cwd outside the project": "cd /",
    }
    for game, shell in cwd_games.items():
        for label, argv, edit in ENV_CMDS:
            path_argv = [a if a != CFG else f"@@PROBE@@/{CFG}" for a in argv]
            out.append(Probe("env", f"{game} :: {label}", path_argv, _cfg_with(target, edit), shell=shell, timeout=60,
                             allow_change=("sealed", "gone"), is_gate=argv[0] == "ci"))
    return out


def stdio_probes(target: Target) -> list[Probe]:
    out = []
    cmds = [("validate", ["validate", CFG], None), ("validate bad", ["validate", CFG], "  batch_size: 6"),
            ("validate json", ["validate", CFG, "-f", "json"], None), ("validate sarif", ["validate", CFG, "-f", "sarif"], None),
            ("history", ["history"], None), ("heads", ["heads"], None), ("show", ["show", "head"], None),
            ("log", ["log", "priority_net.batch_size"], None), ("diff", ["diff", "v11", "head"], None),
            ("diff json", ["diff", "v11", "head", "--format", "json"], None), ("explain", ["explain", "AHSD101"], None),
            ("schema -", ["schema", "-o", "-"], None), ("migrate --dry-run", ["migrate", CFG, "--to", "v11", "--dry-run"], None),
            ("current", ["current", CFG], None), ("check-migrations", ["check-migrations"], None),
            ("ci", ["ci", "--base", "main"], "pr"), ("--help", ["--help"], None), ("--version", ["--version"], None)]
    for how, rcs in (("closed", (0, 1, 2, -13)), ("full", (0, 1, 2))):  # -13: killed by SIGPIPE, as cat is
        for label, argv, edit in cmds:
            out.append(Probe("stdio", f"stdout {how} :: {label}", argv, _cfg_with(target, edit), stdout=how,
                             rcs=rcs, timeout=60))
    return out


def _bad_text(target: Target) -> str:
    return target.text(CFG).replace("  batch_size: 128", "  batch_size: 6", 1)


def _run(d: Path, *cmd: str) -> None:
    subprocess.run(cmd, cwd=d, check=True, capture_output=True)


def ci_git_probes(target: Target) -> list[Probe]:
    bad = _bad_text(target)
    head = head_rev(target.root)
    out = []

    def G(name, setup, argv=("ci", "--base", "main"), validate=None, cwd=""):  # noqa: N802 - a table of cases
        out.append(Probe("ci-git", name, list(argv), setup, gate_validate=validate, timeout=90, is_gate=True, cwd=cwd))

    def pr_with(*writes, extra=None):
        def setup(d: Path):
            git(d, "checkout", "-qb", "pr")
            for rel, text in writes:
                p = d / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text)
            if extra:
                extra(d)
            git(d, "add", "-A")
            git(d, "commit", "-qm", "pr")
        return setup

    def shallow(d: Path):
        pr_with((CFG, bad))(d)
        src = d.parent / (d.name + "-src")
        shutil.rmtree(src, ignore_errors=True)
        d.rename(src)
        _run(d.parent, "git", "clone", "-q", "--depth", "1", "--branch", "pr", f"file://{src}", d.name)
        shutil.rmtree(src)

    def detached(d: Path):
        pr_with((CFG, bad))(d)
        git(d, "checkout", "-q", "--detach", "pr")

    def submodule(d: Path):
        sub = d.parent / (d.name + "-sub")
        shutil.rmtree(sub, ignore_errors=True)
        shutil.copytree(d, sub)
        (sub / CFG).write_text(bad)
        git(sub, "commit", "-qam", "bad in the submodule")
        git(d, "checkout", "-qb", "pr")
        git(d, "-c", "protocol.file.allow=always", "submodule", "add", "-q", f"file://{sub}", "configs/sub")
        git(d, "commit", "-qm", "pr")

    def into_git(d: Path):
        git(d, "checkout", "-qb", "pr")
        (d / "configs/x.yaml").symlink_to("../.git/config")
        git(d, "add", "-A")
        git(d, "commit", "-qm", "pr")

    def no_repo(d: Path):
        shutil.rmtree(d / ".git")

    def unborn(d: Path):
        shutil.rmtree(d / ".git")
        git(d, "init", "-q", "-b", "main")

    def worktree(d: Path):
        pr_with((CFG, bad))(d)
        git(d, "checkout", "-q", "main")
        git(d, "worktree", "add", "-q", "wt", "pr")

    G("shallow clone, base missing", shallow, validate=[CFG])
    G("shallow clone, base = HEAD~1", shallow, argv=("ci", "--base", "HEAD~1"), validate=[CFG])
    G("detached HEAD", detached, validate=[CFG])
    G("base ref missing", pr_with((CFG, bad)), argv=("ci", "--base", "origin/main"), validate=[CFG])
    G("base is a sha", pr_with((CFG, bad)), argv=("ci", "--base", "main~0"), validate=[CFG])
    G("base is a tag", pr_with((CFG, bad), extra=lambda d: git(d, "tag", "base-tag", "main")),
      argv=("ci", "--base", "base-tag"), validate=[CFG])
    G("submodule under configs/", submodule, validate=[])
    G("config name with a space", pr_with(("configs/a b.yaml", bad)), validate=["configs/a b.yaml"])
    G("config name with a newline", pr_with(("configs/a\nb.yaml", bad)), validate=["configs/a\nb.yaml"])
    G("config name with a quote and a tab", pr_with(("configs/a\"\tb.yaml", bad)), validate=["configs/a\"\tb.yaml"])
    G("config name not UTF-8", pr_with((CFG, bad), extra=lambda d: (d / CFG).rename(d / "configs" / "caf\udce9.yaml")),
      validate=["configs/caf\udce9.yaml"])
    G("config name starting with a dash", pr_with(("configs/-x.yaml", bad)), validate=["configs/-x.yaml"])
    G("config symlink into .git", into_git, validate=[])
    G("no git repository", no_repo, validate=[])
    G("repository with no commit", unborn, validate=[])
    G("run from a linked worktree", worktree, validate=[f"wt/{CFG}"], cwd="wt")
    G("--repo a linked worktree", worktree, argv=("ci", "--base", "main", "--repo", "wt"), validate=[f"wt/{CFG}"])
    G("PR deletes migrations/", pr_with((CFG, bad.replace(f"revision: {head}\n", "")),
                                        extra=lambda d: git(d, "rm", "-rq", "migrations")), validate=[CFG])
    G("PR makes migrations/ a file", pr_with((CFG, bad), extra=lambda d: (git(d, "rm", "-rq", "migrations"),
                                                                          (d / "migrations").write_text("x"))),
      validate=[CFG])
    G("PR with uncommitted bad change", lambda d: (d / CFG).write_text(bad), validate=[])
    return out


def probes(target: Target) -> list[Probe]:
    return option_probes(target) + env_probes(target) + stdio_probes(target) + ci_git_probes(target)
