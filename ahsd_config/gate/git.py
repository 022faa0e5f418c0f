"""Git plumbing for the CI gate: what a pull request changed, read at refs without a checkout.

Everything goes through `git` subprocesses with fixed argument lists (no shell). Ranges use the
pull-request semantics of `base...head`: changes on head's side since the merge base, so commits
that landed on the base branch meanwhile are not blamed on the pull request.

A ref that cannot be resolved, or a merge base that cannot be found, is almost always a shallow
clone (actions/checkout fetches one commit by default); `GitError` says how to fetch more history.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Container

from ahsd_config.errors import AhsdConfigError, UsageError

FETCH_MORE_HISTORY = (
    "fetch more history: `git fetch --unshallow` (or `git fetch origin <base-branch>`) locally, "
    "`fetch-depth: 0` on actions/checkout in GitHub Actions"
)

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class GitError(AhsdConfigError):
    """git could not answer: not a repository, an unknown ref, no merge base (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class ChangedPath:
    """One path the range touched. `status` is git's letter (A, M, D, R, T); `old_path` for renames."""

    status: str
    path: str
    old_path: str | None = None

    @property
    def base_path(self) -> str | None:
        """Where the file lived at the merge base (None for an added file)."""
        if self.status == "A":
            return None
        return self.old_path or self.path


def revision_arg(text: str, what: str = "revision") -> str:
    """Text from a user or a file that becomes ONE git argument: never an option (`--output=...`),
    never a line break (it would desynchronise `git cat-file --batch`)."""
    if not text or text.startswith("-") or any(c in text for c in "\n\r\0"):
        raise GitError(f"{what} {text!r} cannot be passed to git (it starts with '-' or holds a line break)")
    return text


class Git:
    """A git working copy at `repo_dir`, asked questions with `git -C repo_dir ...`.

    Every argument that comes from outside (a ref, `REV:path`) goes through `revision_arg` and
    after `--end-of-options` or `--`, so no text can become an option."""

    def __init__(self, repo_dir: str | Path) -> None:
        self.repo_dir = Path(repo_dir)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            proc = subprocess.run(
                ["git", "-C", str(self.repo_dir), *args],
                capture_output=True, text=True, encoding="utf-8", errors="surrogateescape",
            )
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH; the gate reads the pull request with git") from None
        if check and proc.returncode != 0:
            raise GitError(f"`git {' '.join(args)}` failed: {_first_line(proc.stderr or proc.stdout)}")
        return proc

    def toplevel(self) -> Path:
        proc = self.run("rev-parse", "--show-toplevel", check=False)
        if proc.returncode != 0:
            raise GitError(f"{self.repo_dir} is not inside a git repository; run `ahsd-config ci` in a checkout")
        return Path(proc.stdout.strip())

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository", check=False).stdout.strip() == "true"

    def resolve(self, ref: str) -> str:
        """The commit id of `ref`, or a GitError that says how to get it."""
        proc = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
        if proc.returncode == 0:
            return proc.stdout.strip()
        shallow = " This clone is shallow." if self.is_shallow() else ""
        raise GitError(f"unknown git ref {ref!r}: it is not in this clone.{shallow} To gate a pull request the "
                       f"base must be present; {FETCH_MORE_HISTORY}.")

    def merge_base(self, base: str, head: str) -> str:
        proc = self.run("merge-base", base, head, check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.split()[0]
        why = "the clone is shallow and the common ancestor was not fetched" if self.is_shallow() else "the histories are unrelated"
        raise GitError(f"{base} and {head} have no common ancestor here ({why}); {FETCH_MORE_HISTORY}.")

    def changed_paths(self, base: str, head: str) -> list[ChangedPath]:
        """Paths changed on head's side since the merge base (`git diff base...head`), renames paired."""
        out = self.run("diff", "--name-status", "-z", "-M", "--no-ext-diff", f"{base}...{head}").stdout
        fields = out.split("\0")
        changed: list[ChangedPath] = []
        i = 0
        while i < len(fields) and fields[i]:
            status = fields[i][0]
            if status in "RC":
                changed.append(ChangedPath("R" if status == "R" else "A", fields[i + 2], fields[i + 1] if status == "R" else None))
                i += 3
            else:
                changed.append(ChangedPath(status, fields[i + 1]))
                i += 2
        return changed

    def show(self, ref: str, path: str) -> str | None:
        """The text of `path` at `ref` (`git show ref:path`), or None where it does not exist there."""
        proc = self.run("show", "--no-textconv", "--end-of-options", revision_arg(f"{ref}:{path}"), check=False)
        return proc.stdout if proc.returncode == 0 else None

    def show_spec(self, spec: str) -> str:
        """`git show REV:path` for a spec a user typed; GitError naming it when git cannot."""
        proc = self.run("show", "--no-textconv", "--end-of-options", revision_arg(spec, "git spec"), check=False)
        if proc.returncode != 0:
            raise GitError(f"git show {spec} failed: {_first_line(proc.stderr) or 'unknown revision or path'}")
        return proc.stdout

    def show_many(self, ref: str, paths: list[str]) -> dict[str, str | None]:
        """`show` for many paths in one `git cat-file --batch` process (a chain has dozens of files)."""
        if not paths:
            return {}
        odd = [p for p in paths if any(c in p for c in "\n\r\0")]  # cannot be one request line
        texts_odd = {p: None for p in odd}  # such a name is never a revision or config we read
        paths = [p for p in paths if p not in texts_odd]
        if not paths:
            return texts_odd
        request = "".join(f"{ref}:{p}\n" for p in paths).encode("utf-8", "surrogateescape")
        proc = subprocess.run(["git", "-C", str(self.repo_dir), "cat-file", "--batch"], input=request,
                              capture_output=True)
        if proc.returncode != 0:
            return {**{p: self.show(ref, p) for p in paths}, **texts_odd}
        out, pos, texts = proc.stdout, 0, {}
        for path in paths:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) != 3:  # "<ref:path> missing"
                texts[path] = None
                continue
            size = int(header[2])
            texts[path] = out[pos:pos + size].decode("utf-8", errors="replace")
            pos += size + 1
        return {**texts, **texts_odd}

    def list_files(self, ref: str, directory: str = "") -> list[str]:
        """Every file path at `ref` (under `directory` when given), repository-relative."""
        args = ["ls-tree", "-r", "-z", "--name-only", ref]
        if directory:
            args += ["--", directory]
        return [p for p in self.run(*args).stdout.split("\0") if p]

    def touched_lines(self, base: str, head: str, paths: list[str]) -> dict[str, set[int]]:
        """Head-side line numbers each path's hunks add or change (`git diff -U0 base...head`)."""
        touched: dict[str, set[int]] = {}
        if not paths:
            return touched
        out = self.run("diff", "-U0", "--no-color", "--no-ext-diff", "-M", f"{base}...{head}", "--", *paths).stdout
        current: set[int] | None = None
        for line in out.splitlines():
            if line.startswith("+++ "):
                name = line[4:]
                current = None if name == "/dev/null" else touched.setdefault(name[2:] if name.startswith("b/") else name, set())
            elif current is not None and (m := _HUNK.match(line)):
                start, count = int(m.group(1)), int(m.group(2) or 1)
                # A pure deletion (count 0) touches the line after which it happened.
                current.update(range(start, start + count) if count else [max(start, 1)])
        return touched


def _first_line(text: str) -> str:
    """git's own first line of an error (its further lines are advice about git's command line,
    which the user did not type): the error stays one line."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def show_at_commit(spec: str, config_revisions: Container[str], repo_dir: str | Path = ".") -> str:
    """`git show GITREV:path` for `ahsd-config diff`. A config revision before the colon
    (v13:configs/x.yaml) is refused clearly unless git knows that name too (a tag): git would only
    say "invalid object name"."""
    rev, _, path = spec.partition(":")
    git = Git(repo_dir)
    if (rev in config_revisions or rev in ("head", "base")) and not _knows(git, rev):
        raise UsageError(f"{spec}: {rev!r} is a config revision, not a git commit; GITREV:path reads "
                         f"a file at a git commit (e.g. HEAD~1:{path}); to compare with revision "
                         f"{rev}, name it alone: `ahsd-config diff {rev} ...`")
    return git.show_spec(spec)


def _knows(git: Git, rev: str) -> bool:
    try:
        return git.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
                       check=False).returncode == 0
    except GitError:
        return False


class WorkTree:
    """The working tree answering the questions the gate asks git (`ref` is ignored): what
    `check-migrations` reads instead of a commit."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def list_files(self, ref: str, directory: str = "") -> list[str]:
        base = self.root / directory
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())

    def show_many(self, ref: str, paths: list[str]) -> dict[str, str | None]:
        return {p: self.show(ref, p) for p in paths}

    def show(self, ref: str, path: str) -> str | None:
        from ahsd_config.errors import InputError
        from ahsd_config.input.loader import read_text

        try:
            return read_text(self.root / path)  # bounded: never blocks on a FIFO or reads /dev/zero
        except InputError:
            return None
