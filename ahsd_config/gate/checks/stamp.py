"""The `stamp` check (AHSD602): every config the gate watches sits at the chain's single head."""

from __future__ import annotations

from ahsd_config.errors import InputError
from ahsd_config.gate.context import GateRun, stamp_of
from ahsd_config.gate.result import NOT_AT_HEAD
from ahsd_config.input.loader import YamlDocument, load_text


def check_stamp(run: GateRun, path: str, doc: YamlDocument) -> None:
    stamp = stamp_of(doc)
    if run.head_revision is None or stamp == run.head_revision:
        return
    line, col = doc.position(("revision",)) if stamp else (1, 1)
    said = f"is stamped {stamp}" if stamp else "has no `revision:` stamp"
    run.add("stamp", path, NOT_AT_HEAD, f"{path} {said}; the head of the chain is {run.head_revision}",
            key="revision", line=line, column=col,
            hint=f"bring it to head with `ahsd-config migrate {path} --to head` (values already "
                 f"there are kept), or `ahsd-config stamp {path} head` when it holds them")


def check_unchanged_configs_at_head(run: GateRun) -> None:
    """When the chain moved, every config the gate watches must move with it."""
    if not run.added or run.head_revision is None:
        return
    changed = {c.path for c in run.configs}
    for path in run.git.list_files(run.head):
        if path in changed or not run.settings.is_config(path):
            continue
        try:
            doc = load_text(run.git.show(run.head, path) or "", path)
        except InputError:
            continue  # not changed here; `ahsd-config validate` reports it
        check_stamp(run, path, doc)
