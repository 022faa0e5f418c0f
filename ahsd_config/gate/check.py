"""`ahsd-config ci`: the gate a config pull request must pass. Library only; the CLI renders.

`run_gate(repo_dir, base, head)` reads the pull request with git (`base...head`, merge-base
semantics, files read with `git show REF:path`, never a checkout) and returns a `GateResult`:
one `CheckVerdict` per check, the findings that failed it, and the table of changed keys with the
revisions and rationales that explain them (the review a human reads).

Checks, each with a permanent code (AHSD6xx = gate):

| check        | code    | fails when                                                              |
|--------------|---------|-------------------------------------------------------------------------|
| validate     | (rules) | a changed config has error findings, or does not parse (AHSD608)        |
| stamp        | AHSD602 | a config's `revision:` is not the single head of the chain              |
| recorded     | AHSD601 | a value changed between base and head that no revision in range records |
| rationale    | AHSD603 | an added revision has an empty or placeholder rationale                 |
| apply-revert | AHSD604 | an added revision does not apply cleanly to its parent state            |
|              | AHSD605 | ... or reverting it does not restore that state: byte for byte on a     |
|              |         | config's text walked up from base; values and key order (a warning     |
|              |         | when only the order differs) on the chain's own state otherwise        |
| single-head  | AHSD606 | the chain has more than one head (or none: a cycle)                     |
| history      | AHSD607 | a landed revision was edited or deleted; AHSD609 a revision is malformed |
| validate     | AHSD611 | a config the gate watches was deleted                                   |
| settings     | AHSD610 | the pull request changes `[tool.ahsd]` config_globs or migrations       |

The gate judges with the settings of the BASE ref's pyproject.toml, never the pull request's: a
pull request cannot narrow `config_globs` or move `migrations` to switch its own gate off.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ahsd_config.gate import chain
from ahsd_config.errors import AhsdConfigError, InputError, UsageError
from ahsd_config.gate.chain import MISSING, show
from ahsd_config.gate.git import ChangedPath, Git
from ahsd_config.input.loader import YamlDocument, load_text
from ahsd_config.input.project import DEFAULT_CONFIG_GLOBS, DEFAULT_MIGRATIONS, parse_settings


UNRECORDED, NOT_AT_HEAD, PLACEHOLDER, NO_APPLY, NO_REVERT, HEADS, EDITED, UNREADABLE, BAD_REVISION = (
    "AHSD601", "AHSD602", "AHSD603", "AHSD604", "AHSD605", "AHSD606", "AHSD607", "AHSD608", "AHSD609",
)
SETTINGS_CHANGED, CONFIG_DELETED = "AHSD610", "AHSD611"

CHECKS: dict[str, str] = {
    "validate": "changed configs validate",
    "stamp": "configs are stamped at the head revision",
    "recorded": "every changed value is recorded in a revision",
    "rationale": "added revisions give a rationale for every change",
    "apply-revert": "added revisions apply cleanly and revert byte-identically",
    "single-head": "the revision chain has one head",
    "history": "landed revisions are left as they are",
    "settings": "the gate's own settings are as at the base",
}


class GateFailed(AhsdConfigError):
    """The pull request did not pass the gate (exit 1); the findings were already printed."""

    exit_code = 1


@dataclass(frozen=True)
class GateFinding:
    """One reason the gate failed (or a warning), at a file position, for one check."""

    check: str
    path: str
    code: str
    severity: str
    message: str
    key: str = ""
    line: int = 1
    column: int = 1
    hint: str = ""


@dataclass
class CheckVerdict:
    name: str
    title: str
    findings: list[GateFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


@dataclass(frozen=True)
class KeyChange:
    """One key whose value differs between a config's base and head versions."""

    path: str
    key: str
    old: Any
    new: Any
    steps: tuple[chain.StepRecord, ...]  # the revisions that moved it, in order
    recorded: bool


@dataclass
class GateResult:
    base: str
    head: str
    merge_base: str
    configs: list[str] = field(default_factory=list)
    revisions_added: list[str] = field(default_factory=list)
    checks: list[CheckVerdict] = field(default_factory=list)
    changes: list[KeyChange] = field(default_factory=list)
    touched: dict[str, set[int]] = field(default_factory=dict)
    head_revision: str | None = None
    nothing_to_check: bool = False
    seconds: float = 0.0
    label: str = ""

    @property
    def subject(self) -> str:
        """What was judged: `origin/main...HEAD`, or a folder for `check-migrations`."""
        return self.label or f"{self.base}...{self.head}"

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def findings(self) -> list[GateFinding]:
        return [f for c in self.checks for f in c.findings]

    def check(self, name: str) -> CheckVerdict:
        return next(c for c in self.checks if c.name == name)


@dataclass(frozen=True)
class GateSettings:
    config_globs: tuple[str, ...] = DEFAULT_CONFIG_GLOBS
    migrations: str = DEFAULT_MIGRATIONS

    def is_config(self, path: str) -> bool:
        return any(_glob_regex(g).fullmatch(path) for g in self.config_globs)

    def is_revision(self, path: str) -> bool:
        return path.startswith(self.migrations.rstrip("/") + "/") and path.endswith((".yaml", ".yml"))


def run_gate(repo_dir: str = ".", base: str = "origin/main", head: str = "HEAD",
             settings: GateSettings | None = None) -> GateResult:
    """Judge the pull request `base...head` in the git checkout at `repo_dir` (see module docstring)."""
    started = time.perf_counter()
    git = Git(Git(repo_dir).toplevel())
    base_id, head_id = git.resolve(base), git.resolve(head)
    mb = git.merge_base(base_id, head_id)
    result = GateResult(base=base, head=head, merge_base=mb, checks=[CheckVerdict(n, t) for n, t in CHECKS.items()])
    settings_changed = False
    if settings is None:
        settings = read_settings(git, base_id)  # the base's rules judge the pull request
        settings_changed = _report_settings_change(result, settings, git, head_id)
    changed = git.changed_paths(base_id, head_id)
    configs = [c for c in changed if settings.is_config(c.path) or (c.old_path and settings.is_config(c.old_path))]
    revision_paths = [c for c in changed if settings.is_revision(c.path) or (c.old_path and settings.is_revision(c.old_path))]
    result.configs = [c.path for c in configs if c.status != "D"]
    for c in configs:
        if c.status == "D":
            result.check("validate").findings.append(GateFinding(
                "validate", c.path, CONFIG_DELETED, "error",
                f"{c.path} is a config the gate watches and this pull request deletes it",
                hint="keep the file; to stop watching it, change [tool.ahsd] config_globs in a pull "
                     "request of its own"))
    if not configs and not revision_paths and not settings_changed:
        result.nothing_to_check = True
        result.seconds = time.perf_counter() - started
        return result
    _Gate(git, settings, result, mb, head_id, configs, revision_paths).run()
    result.touched = git.touched_lines(base_id, head_id, sorted({f.path for f in result.findings}))
    result.seconds = time.perf_counter() - started
    return result


def _report_settings_change(result: GateResult, base: GateSettings, git: Git, head: str) -> bool:
    """AHSD610 when the pull request's pyproject.toml sets other gate settings than the base's."""
    try:
        at_head = read_settings(git, head)
    except InputError as exc:
        why = f"its [tool.ahsd] cannot be read at head: {exc.message}"
    else:
        if at_head == base:
            return False
        why = "it changes [tool.ahsd] " + ", ".join(
            f"{name} {getattr(base, name)!r} -> {getattr(at_head, name)!r}"
            for name in ("config_globs", "migrations") if getattr(base, name) != getattr(at_head, name))
    result.check("settings").findings.append(GateFinding(
        "settings", "pyproject.toml", SETTINGS_CHANGED, "error",
        f"pyproject.toml: {why}; the gate keeps judging with the base's settings",
        key="tool.ahsd", hint="change the gate's settings in a pull request of their own, reviewed and "
                              "merged on purpose (the gate cannot approve a change to its own rules)"))
    return True


def read_settings(git: Git, ref: str) -> GateSettings:
    """`[tool.ahsd] config_globs` and `migrations` from pyproject.toml at `ref` (defaults otherwise)."""
    text = git.show(ref, "pyproject.toml")
    return _settings_from_toml(text) if text else GateSettings()


def _settings_from_toml(text: str) -> GateSettings:
    """The gate's view of `[tool.ahsd]`, read by the one settings parser (`ahsd_config.input.project`)."""
    parsed = parse_settings(text, "pyproject.toml")
    if parsed is None:  # no [tool.ahsd] table: the defaults match the project's own layout
        return GateSettings()
    return GateSettings(config_globs=parsed.config_globs, migrations=parsed.migrations)


@lru_cache(maxsize=64)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """`configs/**/*.yaml` -> a regex: `**/` spans zero or more folders, `*` and `?` stay in one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:[^/]+/)*", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def check_chain(directory: str | Path | None = None) -> GateResult:
    """`check-migrations`: the chain in a folder of the working tree, as the gate judges added revisions.

    One head, no cycle or missing parent, a real rationale for every change, and every revision
    applies to the chain's state at its parent and reverts to it (values and key order; number
    style needs a real config text, which the `ci` gate replays).
    """
    started = time.perf_counter()
    from ahsd_config.migrate.store import find_migrations_dir

    folder = Path(directory) if directory is not None else find_migrations_dir()
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of revisions; pass the migrations folder "
                         "(or set [tool.ahsd] migrations in pyproject.toml)")
    tree = WorkTree(folder.parent)
    settings = GateSettings(config_globs=(), migrations=folder.name)
    titles = {"rationale": "every change gives a rationale",
              "apply-revert": "every revision applies to its parent state and reverts to it",
              "single-head": "the revision chain has one head",
              "history": "every revision file reads"}
    result = GateResult(base="", head="", merge_base="", label=f"{folder}/ (working tree)",
                        checks=[CheckVerdict(n, t) for n, t in titles.items()])
    paths = [ChangedPath("A", p) for p in tree.list_files("", folder.name) if settings.is_revision(p)]
    gate = _Gate(tree, settings, result, "", "", [], paths)
    gate.load_chain()
    gate.check_heads()
    gate.check_rationales()
    gate.check_unwitnessed_revisions()
    result.revisions_added, result.head_revision = list(gate.added), gate.head_revision
    result.seconds = time.perf_counter() - started
    return result


class WorkTree:
    """The working tree answering the two questions the gate asks git (`ref` is ignored)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def list_files(self, ref: str, directory: str = "") -> list[str]:
        base = self.root / directory
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())

    def show_many(self, ref: str, paths: list[str]) -> dict[str, str | None]:
        return {p: self.show(ref, p) for p in paths}

    def show(self, ref: str, path: str) -> str | None:
        try:
            return (self.root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


class _Gate:
    """One gate run: loads what it needs once, then fills the verdicts of `result`."""

    def __init__(self, git: Git | WorkTree, settings: GateSettings, result: GateResult, mb: str, head: str,
                 configs: list[ChangedPath], revision_paths: list[ChangedPath]) -> None:
        self.git, self.settings, self.result = git, settings, result
        self.mb, self.head = mb, head
        self.configs, self.revision_paths = configs, revision_paths
        self.chain = chain.Chain({})
        self.added: list[str] = []
        self.head_revision: str | None = None
        self.replayed: set[str] = set()

    def add(self, check: str, path: str, code: str, message: str, *, key: str = "", line: int = 1,
            column: int = 1, hint: str = "", severity: str = "error") -> None:
        self.result.check(check).findings.append(
            GateFinding(check, path, code, severity, message, key, line, column, hint))

    def note(self, check: str, text: str) -> None:
        self.result.check(check).notes.append(text)

    def run(self) -> None:
        self.load_chain()
        self.check_history()
        self.check_heads()
        self.check_rationales()
        for changed in self.configs:
            if changed.status != "D":
                self.check_config(changed)
        self.check_unchanged_configs_at_head()
        self.check_unwitnessed_revisions()
        self.result.revisions_added = list(self.added)
        self.result.head_revision = self.head_revision

    # ------------------------------------------------------------------------------ the chain

    def load_chain(self) -> None:
        located: dict[str, chain.Located] = {}
        paths = [p for p in self.git.list_files(self.head, self.settings.migrations) if self.settings.is_revision(p)]
        for path, text in self.git.show_many(self.head, paths).items():
            text = text or ""
            try:
                loc = chain.parse(text, path)
            except InputError as exc:
                self.add("history", path, BAD_REVISION, f"revision file cannot be read: {exc.message}",
                         line=exc.position.line, column=exc.position.column)
                continue
            except chain.RevisionFormatError as exc:
                line, col = chain.format_error_position(text, path, exc)
                self.add("history", path, BAD_REVISION, f"malformed revision: {exc.message}", line=line, column=col)
                continue
            if loc.id in located:
                self.add("history", path, BAD_REVISION, f"revision id {loc.id} is used by {located[loc.id].path} too",
                         line=loc.id_position[0], hint="give the newer revision an id of its own")
                continue
            located[loc.id] = loc
        self.report_missing_parents(located)
        self.chain = chain.Chain(located)
        added_paths = {c.path for c in self.revision_paths if c.status in "AR"}
        self.added = [rid for rid in self.chain.order() if located[rid].path in added_paths]

    def report_missing_parents(self, located: dict[str, chain.Located]) -> None:
        """Drop revisions whose parents do not exist (and their descendants), each with a finding."""
        while True:
            orphans = [loc for loc in located.values() if any(p not in located for p in loc.revision.parents)]
            if not orphans:
                return
            for loc in orphans:
                missing = [p for p in loc.revision.parents if p not in located]
                self.add("single-head", loc.path, HEADS, f"revision {loc.id} names parent {', '.join(missing)}, "
                         "which does not exist", line=loc.id_position[0], key="parents",
                         hint="fix `parents:` to name an existing revision (`ahsd-config heads` lists the heads)")
                del located[loc.id]

    def check_history(self) -> None:
        for c in self.revision_paths:
            if c.status == "M" or (c.status == "R" and self.git.show(self.mb, c.old_path or "") != self.git.show(self.head, c.path)):
                self.add("history", c.path, EDITED, f"{c.path} is a landed revision and was edited",
                         hint="revisions are never edited after they land: revert this edit and "
                              "record the change in a new revision (`ahsd-config revision -m ... --from FILE`)")
            elif c.status == "D":
                self.add("history", c.path, EDITED, f"{c.path} is a landed revision and was deleted; configs "
                         "stamped with it can no longer migrate", severity="warning",
                         hint="keep it, or replace a range with `ahsd-config squash FROM TO`")

    def check_heads(self) -> None:
        if self.chain.cycle is not None:
            where = self.chain.located[self.chain.cycle[0]] if self.chain.cycle else None
            self.add("single-head", where.path if where else self.settings.migrations, HEADS,
                     f"revision cycle: {' -> '.join(self.chain.cycle)}", key="parents",
                     line=where.id_position[0] if where else 1,
                     hint="a revision's parents must be older revisions")
            return
        heads = self.chain.heads()
        if len(heads) == 1:
            self.head_revision = heads[0]
            return
        if not heads:
            return
        # The head the pull request added is where the reviewer should look.
        where = self.chain.located[next((h for h in heads if h in self.added), heads[-1])]
        self.add("single-head", where.path, HEADS,
                 f"the revision chain has {len(heads)} heads after this pull request: {', '.join(heads)}",
                 line=where.id_position[0], key="parents",
                 hint=f"join them with `ahsd-config merge {' '.join(heads[:2])} -m \"merge\"`, or rebase "
                      f"one revision onto the other by changing its `parents:`")

    def check_rationales(self) -> None:
        for rid in self.added:
            loc = self.chain.located[rid]
            for i, change in enumerate(loc.revision.changes):
                written = loc.written_rationales[i]
                if not chain.is_placeholder(written):
                    continue
                said = f"the placeholder rationale {written.strip()!r}" if written.strip() else "no rationale"
                line, col = loc.rationale_positions[i] or loc.change_positions[i]
                what = change.key or f"transform {change.name}"
                self.add("rationale", loc.path, PLACEHOLDER, f"revision {rid} changes {what} with {said}",
                         key=change.key, line=line, column=col,
                         hint="write why the value changes (what broke, what the new value fixes) in `rationale:`")

    # ---------------------------------------------------------------------------- the configs

    def check_config(self, changed: ChangedPath) -> None:
        path = changed.path
        head_doc = self.load_config(path, self.git.show(self.head, path) or "", "head")
        if head_doc is None:
            return
        self.validate(path, head_doc)
        self.check_stamp(path, head_doc)
        base_text = self.git.show(self.mb, changed.base_path) if changed.base_path else None
        base_doc = self.load_config(path, base_text, "base", quiet=True) if base_text is not None else None
        if base_doc is None:
            why = "is new in this pull request" if base_text is None else "does not parse at the merge base"
            self.note("recorded", f"{path} {why}: it must validate and sit at head; its values need no revision")
            return
        steps = self.steps_for(base_doc, head_doc)
        self.check_recorded(path, base_doc, head_doc, steps)
        self.replay_added(path, base_doc, steps)

    def load_config(self, path: str, text: str | None, side: str, quiet: bool = False) -> YamlDocument | None:
        try:
            return load_text(text or "", path)
        except InputError as exc:
            if not quiet:
                self.add("validate", path, UNREADABLE, f"{path} at {side} cannot be read: {exc.message}",
                         line=exc.position.line, column=exc.position.column,
                         hint=f"run `ahsd-config validate {path}` locally")
            return None

    def validate(self, path: str, doc: YamlDocument) -> None:
        from ahsd_config.api.validate import validate_document

        for f in validate_document(doc).findings:
            if f.severity == "error":
                self.add("validate", path, f.code, f.message, key=f.key, line=f.line,
                         column=f.column, hint=f.hint)

    def check_stamp(self, path: str, doc: YamlDocument) -> None:
        stamp = _stamp(doc)
        if self.head_revision is None or stamp == self.head_revision:
            return
        line, col = doc.position(("revision",)) if stamp else (1, 1)
        said = f"is stamped {stamp}" if stamp else "has no `revision:` stamp"
        self.add("stamp", path, NOT_AT_HEAD, f"{path} {said}; the head of the chain is {self.head_revision}",
                 key="revision", line=line, column=col,
                 hint=f"bring it to head with `ahsd-config migrate {path} --to head` (values already "
                      f"there are kept), or `ahsd-config stamp {path} head` when it holds them")

    def steps_for(self, base_doc: YamlDocument, head_doc: YamlDocument) -> list[chain.Step]:
        """From the base's revision (its stamp, or the exact match of an unstamped file) to the
        chain's head (a wrong stamp at head is the stamp check's finding, not a value's); without
        a base revision, the revisions the pull request added."""
        start = self.base_revision(base_doc)
        end = self.head_revision or (_stamp(head_doc) if _stamp(head_doc) in self.chain else None)
        if start is not None and end is not None and self.chain.ok:
            return self.chain.path(start, end)
        return [chain.Step(self.chain.located[rid].revision, False) for rid in self.added]

    def base_revision(self, doc: YamlDocument) -> str | None:
        stamp = _stamp(doc)
        if stamp in self.chain:
            return stamp
        if stamp is None and self.chain.ok and self.chain.located:
            from ahsd_config.api.migrations import infer

            found = infer(_without_stamp(doc.plain()), self.chain.map)
            return found.revision if found.exact else None
        return None

    def check_recorded(self, path: str, base_doc: YamlDocument, head_doc: YamlDocument,
                       steps: list[chain.Step]) -> None:
        """Replay the revisions from base to head on the base values; every key must end as at head."""
        base_flat = chain.flatten(_without_stamp(base_doc.plain()))
        head_flat = chain.flatten(_without_stamp(head_doc.plain()))
        state, records = chain.simulate(self.chain, _without_stamp(base_doc.plain()), steps)
        implicit = self.chain.map.implicit if self.chain.ok else frozenset()
        for key in sorted(set(base_flat) | set(head_flat) | set(state), key=_key_order(head_flat, base_flat)):
            old, new, replayed = (base_flat.get(key, MISSING), head_flat.get(key, MISSING), state.get(key, MISSING))
            if new is MISSING and key in implicit:
                replayed = MISSING  # an implicit key may stay out of the file
            recorded = chain.same(replayed, new)
            if chain.same(old, new) and recorded:
                continue
            steps_of_key = tuple(records.get(key, ()))
            if not chain.same(old, new):
                self.result.changes.append(KeyChange(path, key, old, new, steps_of_key, recorded))
            if recorded:
                continue
            line, col = head_doc.position(chain.key_path(key))
            names = ", ".join(dict.fromkeys(s.revision for s in steps_of_key))
            if chain.same(old, new):
                message = f"{key} is still {show(new)} at head, but revision {names} takes it to {show(replayed)}"
                hint = f"apply the revisions with `ahsd-config migrate {path} --to head`"
            elif not steps_of_key:
                message = f"{key} changed {show(old)} -> {show(new)} with no revision recording it"
                hint = (f"record it with `ahsd-config revision -m \"...\" --from {path}`, then write the "
                        f"rationale of each change in the new revision file (the command also stamps {path})")
            else:
                message = f"{key} changed {show(old)} -> {show(new)}, but revision {names} takes it to {show(replayed)}"
                hint = (f"make the file match the revisions, or record the difference with "
                        f"`ahsd-config revision -m \"...\" --from {path}`")
            self.add("recorded", path, UNRECORDED, message, key=key, line=line, column=col, hint=hint)

    # ----------------------------------------------------------------------- apply and revert

    def replay_added(self, path: str, base_doc: YamlDocument, steps: list[chain.Step]) -> None:
        """Walk the base text up the chain; each added revision must apply, then revert to the same bytes."""
        if _stamp(base_doc) not in self.chain:
            return  # unstamped text cannot be replayed byte for byte; the chain's state stands in
        text: str | None = base_doc.text
        for step in steps:
            if step.down or text is None:
                return
            rid = step.revision.id
            check = rid in self.added and rid not in self.replayed
            if check:
                self.replayed.add(rid)
            text = self.replay(rid, text, path, check)

    def replay(self, rid: str, text: str, witness: str, check: bool) -> str | None:
        loc = self.chain.located[rid]
        applied, conflicts = chain.replay(self.chain, text, rid, path=witness)
        if applied is None:
            if check:
                parent = ", ".join(loc.revision.parents) or "an empty config"
                self.add("apply-revert", loc.path, NO_APPLY,
                         f"revision {rid} does not apply to {witness} at {parent}: " + "; ".join(conflicts),
                         line=loc.id_position[0],
                         hint="each change's `old:` must be the value the parent state holds")
            return None
        if check:
            reverted, conflicts = chain.replay(self.chain, applied, rid, down=True, path=witness)
            if reverted != text:
                detail = "; ".join(conflicts) if conflicts else _first_difference(text, reverted or "")
                self.add("apply-revert", loc.path, NO_REVERT,
                         f"revision {rid} does not revert byte-identically on {witness}: {detail}",
                         line=loc.id_position[0],
                         hint="give a `remove` the `after:` sibling it had, a rename its `was_after:`, "
                              "and a transform an inverse that undoes it")
        return applied

    def check_unwitnessed_revisions(self) -> None:
        """Added revisions no config text passed through: up and down on the chain's parent state."""
        if not self.chain.ok:
            return
        for rid in self.added:
            if rid in self.replayed or not self.chain.located[rid].revision.changes:
                continue
            self.replayed.add(rid)
            loc = self.chain.located[rid]
            outcome = chain.replay_plain(self.chain, rid)
            if outcome is None:
                self.note("apply-revert", f"{rid} has no single parent state (a root or a merge); not replayed")
                continue
            where = f"the chain's state at {loc.revision.parents[0]}"
            if outcome.conflicts:
                self.add("apply-revert", loc.path, NO_APPLY,
                         f"revision {rid} does not apply to {where}: " + "; ".join(outcome.conflicts),
                         line=loc.id_position[0], hint="each change's `old:` must be the value the parent state holds")
            elif outcome.changed:
                self.add("apply-revert", loc.path, NO_REVERT,
                         f"revision {rid} does not revert to {where}: {', '.join(outcome.changed[:5])} "
                         f"differ{'s' if len(outcome.changed) == 1 else ''} after applying and reverting it",
                         line=loc.id_position[0], hint="give a transform an inverse that undoes it")
            elif outcome.moved:
                self.add("apply-revert", loc.path, NO_REVERT,
                         f"revision {rid} reverts {where} with {', '.join(outcome.moved)} in another place "
                         "(the values are restored)", severity="warning", line=loc.id_position[0],
                         hint="give a `remove` the `after:` sibling it had, and a rename its `was_after:`")

    def check_unchanged_configs_at_head(self) -> None:
        """When the chain moved, every config the gate watches must move with it."""
        if not self.added or self.head_revision is None:
            return
        changed = {c.path for c in self.configs}
        for path in self.git.list_files(self.head):
            if path in changed or not self.settings.is_config(path):
                continue
            try:
                doc = load_text(self.git.show(self.head, path) or "", path)
            except InputError:
                continue  # not changed here; `ahsd-config validate` reports it
            self.check_stamp(path, doc)


# --------------------------------------------------------------------------------- helpers


def _stamp(doc: YamlDocument) -> str | None:
    data = doc.data
    stamp = data.get("revision") if isinstance(data, dict) else None
    return str(stamp) if stamp is not None else None


def _without_stamp(data: Any) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "revision"} if isinstance(data, dict) else {}


def _key_order(*flats: dict[str, Any]):
    order: dict[str, int] = {}
    for flat in flats:
        for key in flat:
            order.setdefault(key, len(order))
    return lambda key: (order.get(key, len(order)), key)


def _first_difference(expected: str, got: str) -> str:
    a, b = expected.splitlines(), got.splitlines()
    for i, (x, y) in enumerate(zip(a, b), start=1):
        if x != y:
            return f"line {i} was {x.strip()!r}, after the revert it is {y.strip()!r}"
    return f"{len(a)} lines before, {len(b)} after the revert"
