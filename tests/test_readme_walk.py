"""The README, walked top to bottom: every command it shows runs, and exits as documented.

Rules (keep the README and this test in agreement):
- Every fenced ```bash or ```console block is preceded by a marker line:
  `<!-- walk: run[; setup CMD][; train-args ARGS][; skip-line PREFIX: why] -->` or
  `<!-- walk: skip WHY -->`. Synopses (`[--flag]`, placeholders) go in ```text blocks instead.
- bash blocks: each line is a command. console blocks: `$ ` lines are commands, the lines after
  one are an excerpt of its stdout: each must appear, in order (`...` skips; a line ending in
  `...` matches as a prefix).
- A command exits 0 unless its comment (or, in a console block, one of its output lines) says
  `# exit N`.
- Each block runs in its own fresh copy of the project, with this interpreter's venv on PATH;
  `make` targets use that venv and never reinstall; `train-args` are appended to every
  `ahsd-train run` of the block to keep its budget tiny (the command still runs for real).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
IGNORE = shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__", "*.egg-info", ".pytest_cache",
                                ".hypothesis", "build", "dist")
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!-- walk: (.*) -->$")
EXIT = re.compile(r"\s+#\s+exit (\d+)\b.*$")
COMMENT = re.compile(r"\s+#\s.*$")


@dataclass
class Command:
    line: str
    exit_code: int = 0
    excerpt: list[str] = field(default_factory=list)


@dataclass
class Block:
    line_no: int
    kind: str
    marker: str
    body: list[str]

    @property
    def options(self) -> dict[str, list[str]]:
        opts: dict[str, list[str]] = {}
        for part in self.marker.split("; "):
            name, _, rest = part.partition(" ")
            opts.setdefault(name, []).append(rest)
        return opts

    def commands(self) -> list[Command]:
        out: list[Command] = []
        if self.kind == "bash":
            for line in self.body:
                if line.strip() and not line.lstrip().startswith("#"):
                    m = EXIT.search(line)
                    out.append(Command(COMMENT.sub("", line), int(m.group(1)) if m else 0))
            return out
        for line in self.body:
            if line.startswith("$ "):
                m = EXIT.search(line)
                out.append(Command(COMMENT.sub("", line[2:]), int(m.group(1)) if m else 0))
            elif out:
                m = EXIT.search(line)
                if m:
                    out[-1].exit_code = int(m.group(1))
                out[-1].excerpt.append(EXIT.sub("", line))
        return out


def readme_blocks() -> list[Block]:
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(1):
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        if m.group(1) in ("bash", "console"):
            marker = MARKER.match(lines[i - 1]) if i else None
            assert marker, f"README.md:{i + 1}: a {m.group(1)} block without a `<!-- walk: ... -->` line above it"
            blocks.append(Block(i + 1, m.group(1), marker.group(1), lines[i + 1:end]))
        i = end + 1
    return blocks


def find_in_order(excerpt: list[str], actual: list[str]) -> str | None:
    """None when every excerpt line is found in order; else the first line that is not."""
    pos = 0
    for want in excerpt:
        if want.strip() in ("", "..."):
            continue
        prefix = want[:-3].rstrip() if want.endswith("...") else None
        while pos < len(actual) and not (actual[pos] == want or (prefix and actual[pos].startswith(prefix))):
            pos += 1
        if pos == len(actual):
            return want
        pos += 1
    return None


def prepared(cmd: Command, block: Block) -> str:
    line = cmd.line
    if line.startswith("make "):
        venv = VENV_BIN.parent
        line += f" VENV={venv} -o {venv}/.installed-stamp"
    for args in block.options.get("train-args", []):
        if "ahsd-train run" in line:
            line += f" {args}"
    return line


def walk_block(block: Block, workdir: Path) -> list[str]:
    """Run one block in a fresh copy; return the problems found (empty: as documented)."""
    copy = workdir / f"block{block.line_no}"
    shutil.copytree(ROOT, copy, ignore=IGNORE)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "200"}
    env.pop("VIRTUAL_ENV", None)
    problems = []
    for setup in block.options.get("setup", []):
        subprocess.run(["bash", "-c", setup], cwd=copy, env=env, check=True, timeout=60)
    skips = [s.split(":", 1)[0] for s in block.options.get("skip-line", [])]
    for cmd in block.commands():
        if any(cmd.line.startswith(prefix) for prefix in skips):
            continue
        line = prepared(cmd, block)
        proc = subprocess.run(["bash", "-c", line], cwd=copy, env=env, capture_output=True, text=True, timeout=300)
        where = f"README.md:{block.line_no} `{cmd.line}`"
        if proc.returncode != cmd.exit_code:
            problems.append(f"{where}: exit {proc.returncode}, README says {cmd.exit_code}\n{proc.stderr[-2000:]}")
        missing = find_in_order(cmd.excerpt, proc.stdout.splitlines())
        if missing is not None:
            problems.append(f"{where}: output lacks (in order) {missing!r}")
    return problems


def test_every_command_block_is_marked_and_skips_say_why():
    blocks = readme_blocks()
    assert len(blocks) >= 6
    for b in blocks:
        kind, _, why = b.marker.partition(" ")
        assert kind in ("run", "run;", "skip"), b.marker
        if kind == "skip":
            assert why, f"README.md:{b.line_no}: a skipped block says why"
    # each skip is a deliberate choice: a new one must be added here, with its reason
    # the physics section's full-size commands are ```text (minutes of CPU); its 4-scenario block runs
    assert [b.marker for b in blocks if b.marker.startswith("skip")] == ["skip needs a CUDA GPU and PyPI"]


def test_find_in_order():
    assert find_in_order(["a", "...", "c..."], ["a", "b", "cde"]) is None
    assert find_in_order(["c", "a"], ["a", "b", "c"]) == "a"


@pytest.mark.slow
def test_readme_walk(tmp_path):
    blocks = [b for b in readme_blocks() if b.marker.split(";")[0] == "run"]
    with ThreadPoolExecutor(max_workers=2) as pool:  # blocks are independent: one copy each
        problems = [p for found in pool.map(lambda b: walk_block(b, tmp_path), blocks) for p in found]
    assert problems == [], "\n\n".join(problems)
    assert sum(len(b.commands()) for b in blocks) >= 15
