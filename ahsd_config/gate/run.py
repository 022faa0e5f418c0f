"""`ahsd-config ci` and `check-migrations`: the order the checks run in. Library only; the CLI renders.

`run_gate(repo_dir, base, head)` reads the pull request with git (`base...head`, merge-base
semantics, files read with `git show REF:path`, never a checkout) and returns a `GateResult`
(`gate/result.py` lists the checks and their codes). The gate judges with the settings of the
BASE ref (`gate/settings.py`). `check_chain(folder)` judges a revisions folder of the working tree
as the gate judges added revisions.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from ahsd_config.errors import UsageError
from ahsd_config.gate.checks import apply_revert, heads, history, rationale, recorded, stamp, validate
from ahsd_config.gate.context import GateRun
from ahsd_config.gate.git import ChangedPath, Git, WorkTree
from ahsd_config.gate.result import CHECKS, CheckVerdict, GateResult
from ahsd_config.gate.settings import GateSettings, read_settings, report_settings_change


def run_gate(repo_dir: str = ".", base: str = "origin/main", head: str = "HEAD",
             settings: GateSettings | None = None) -> GateResult:
    """Judge the pull request `base...head` in the git checkout at `repo_dir`."""
    started = time.perf_counter()
    git = Git(Git(repo_dir).toplevel())
    base_id, head_id = git.resolve(base), git.resolve(head)
    mb = git.merge_base(base_id, head_id)
    result = GateResult(base=base, head=head, merge_base=mb, checks=[CheckVerdict(n, t) for n, t in CHECKS.items()])
    settings_changed = False
    if settings is None:
        settings = read_settings(git, base_id)  # the base's rules judge the pull request
        settings_changed = report_settings_change(result, settings, git, head_id)
    changed = git.changed_paths(base_id, head_id)
    configs = [c for c in changed if settings.is_config(c.path) or (c.old_path and settings.is_config(c.old_path))]
    revision_paths = [c for c in changed if settings.is_revision(c.path) or (c.old_path and settings.is_revision(c.old_path))]
    strays = _configs_outside_globs(git, head_id, [c for c in changed if c not in configs and c not in revision_paths])
    for c in strays:
        result.note("validate", f"{c.path} is a training config (top-level priority_net) outside [tool.ahsd] "
                                "config_globs: gated like a watched one")
    configs += strays
    result.configs = [c.path for c in configs if c.status != "D"]
    validate.report_deleted(result, configs)
    if not configs and not revision_paths and not settings_changed:
        result.nothing_to_check = True
        result.seconds = time.perf_counter() - started
        return result
    _run_checks(GateRun(git, settings, result, mb, head_id, configs, revision_paths))
    result.touched = git.touched_lines(base_id, head_id, sorted({f.path for f in result.findings}))
    result.seconds = time.perf_counter() - started
    return result


_CONFIG_LIKE = re.compile(r"^\ufeff?priority_net[ \t]*:", re.MULTILINE)


def _configs_outside_globs(git: Git, head: str, changed: list[ChangedPath]) -> list[ChangedPath]:
    """Added or edited YAML files the globs miss (`other/new.yaml`, `configs/x.yml`) that are
    training configs all the same: a pull request must not get a bad config past the gate by
    choosing its name. A top-level `priority_net:` is what makes a file one (`ahsd-train run`
    trains that section)."""
    candidates = [c for c in changed if c.status != "D" and c.path.lower().endswith((".yaml", ".yml"))]
    texts = git.show_many(head, [c.path for c in candidates])
    return [c for c in candidates if _CONFIG_LIKE.search(texts.get(c.path) or "")]


def _run_checks(run: GateRun) -> None:
    history.load_revisions(run)
    history.check_history(run)
    heads.check_heads(run)
    rationale.check_rationales(run)
    for changed in run.configs:
        if changed.status != "D":
            _check_config(run, changed)
    stamp.check_unchanged_configs_at_head(run)
    apply_revert.check_unwitnessed_revisions(run)
    run.result.revisions_added = list(run.added)
    run.result.head_revision = run.head_revision


def _check_config(run: GateRun, changed: ChangedPath) -> None:
    """One changed config: it validates and sits at head; its base -> head changes are recorded
    by the revisions in between, which apply and revert on its text."""
    path = changed.path
    head_doc = validate.load_config(run, path, run.git.show(run.head, path) or "", "head")
    if head_doc is None:
        return
    validate.check_findings(run, path, head_doc)
    stamp.check_stamp(run, path, head_doc)
    base_text = run.git.show(run.mb, changed.base_path) if changed.base_path else None
    base_doc = validate.load_config(run, path, base_text, "base", quiet=True) if base_text is not None else None
    if base_doc is None:
        why = "is new in this pull request" if base_text is None else "does not parse at the merge base"
        run.note("recorded", f"{path} {why}: it must validate and sit at head; its values need no revision")
        return
    steps = recorded.steps_for(run, base_doc, head_doc)
    recorded.check_recorded(run, path, base_doc, head_doc, steps)
    apply_revert.replay_added(run, path, base_doc, steps)


CHAIN_CHECKS = {"rationale": "every change gives a rationale",
                "apply-revert": "every revision applies to its parent state and reverts to it",
                "single-head": "the revision chain has one head",
                "history": "every revision file reads"}


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
    result = GateResult(base="", head="", merge_base="", label=f"{folder}/ (working tree)",
                        checks=[CheckVerdict(n, t) for n, t in CHAIN_CHECKS.items()])
    paths = [ChangedPath("A", p) for p in tree.list_files("", folder.name) if settings.is_revision(p)]
    run = GateRun(tree, settings, result, "", "", [], paths)
    history.load_revisions(run)
    heads.check_heads(run)
    rationale.check_rationales(run)
    apply_revert.check_unwitnessed_revisions(run)
    result.revisions_added, result.head_revision = list(run.added), run.head_revision
    result.seconds = time.perf_counter() - started
    return result
