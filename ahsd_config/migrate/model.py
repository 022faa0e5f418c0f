"""Revisions as data: `Revision` (id, parents, date, title, changes) and `Change` (one op + rationale).

A revision file is a small YAML mapping, never executed:

    id: v15e
    parents: [v15d]
    date: "2025-11-15"
    title: The five fixes for the epoch-3 gradient explosion
    changes:
      - op: set            # value edit: key, old, new
        key: priority_net.batch_size
        old: 6
        new: 24
        rationale: BatchNorm with n=6 has unreliable statistics ...

Ops: `set` (key, old, new), `add` (key, value, optional `after` = the sibling it follows,
optional `implicit: true` = the value lived in code before, so a file without the key means the
same thing), `remove` (key, old, optional `after` to restore it in place), `rename` (key -> to,
optional `after` at the new place and `was_after` at the old one; moves between sections too) and
`transform` (name, args: a registered pure function with an explicit inverse, see transforms.py).
Every change carries a non-empty rationale; `PLACEHOLDER` marks one still to be written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ahsd_config.values import MISSING

from .errors import RevisionFormatError

PLACEHOLDER = "TODO: explain why"
# The date names the revision's file (`2025-11-15_v15e.yaml`): nothing but a date and a time.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
OPS = ("set", "add", "remove", "rename", "transform")
_ALLOWED = {
    "set": {"key", "old", "new"},
    "add": {"key", "value", "after", "implicit"},
    "remove": {"key", "old", "after"},
    "rename": {"key", "to", "after", "was_after"},
    "transform": {"name", "args"},
}
_REQUIRED = {
    "set": {"key", "old", "new"},
    "add": {"key", "value"},
    "remove": {"key", "old"},
    "rename": {"key", "to"},
    "transform": {"name"},
}


def is_placeholder(rationale: str | None) -> bool:
    """True for an empty rationale or one that still holds the TODO placeholder."""
    text = (rationale or "").strip().lower()
    return not text or text.startswith(("todo", "tbd", "fixme", "xxx", "explain why", "<"))


@dataclass(frozen=True)
class Change:
    op: str
    rationale: str
    key: str = ""
    old: Any = MISSING
    new: Any = MISSING
    value: Any = MISSING
    to: str = ""
    after: str | None = None
    was_after: str | None = None
    implicit: bool = False
    name: str = ""
    args: dict = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        """The dotted keys this change touches (a rename touches both ends)."""
        if self.op == "rename":
            return [self.key, self.to]
        if self.op == "transform":
            return []
        return [self.key]

    def to_plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op}
        if self.op == "transform":
            out["name"] = self.name
            if self.args:
                out["args"] = dict(self.args)
        else:
            out["key"] = self.key
        if self.op == "set":
            out["old"], out["new"] = self.old, self.new
        elif self.op == "add":
            out["value"] = self.value
            if self.after is not None:
                out["after"] = self.after
            if self.implicit:
                out["implicit"] = True
        elif self.op == "remove":
            out["old"] = self.old
            if self.after is not None:
                out["after"] = self.after
        elif self.op == "rename":
            out["to"] = self.to
            if self.after is not None:
                out["after"] = self.after
            if self.was_after is not None:
                out["was_after"] = self.was_after
        out["rationale"] = self.rationale
        return out


@dataclass(frozen=True)
class Revision:
    id: str
    parents: tuple[str, ...]
    date: str
    title: str
    changes: tuple[Change, ...]
    path: str | None = None

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    def to_plain(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parents": list(self.parents),
            "date": self.date,
            "title": self.title,
            "changes": [c.to_plain() for c in self.changes],
        }


def parse_revision(data: Any, path: str = "<revision>") -> Revision:
    """Plain data (a loaded revision file) -> Revision, or RevisionFormatError naming what is wrong."""
    if not isinstance(data, dict):
        raise RevisionFormatError(path, "a revision file must be a mapping with id, parents, date, title, changes")
    unknown = set(data) - {"id", "parents", "date", "title", "changes"}
    if unknown:
        raise RevisionFormatError(path, f"unknown field(s) {sorted(unknown)}")
    rid = data.get("id")
    if not isinstance(rid, str) or not rid or not rid.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise RevisionFormatError(path, f"`id` must be a short name such as v15, got {rid!r}")
    parents = data.get("parents") or []
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise RevisionFormatError(path, "`parents` must be a list of revision ids ([] for a base)")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise RevisionFormatError(path, "`title` must be a non-empty string")
    if len(title.strip().splitlines()) > 1:  # log, history and the gate print it on one line
        raise RevisionFormatError(path, f"`title` must be one line, got {title.strip()!r:.80}")
    raw_changes = data.get("changes")
    if raw_changes is None:
        raw_changes = []
    if not isinstance(raw_changes, list):
        raise RevisionFormatError(path, "`changes` must be a list")
    changes = tuple(parse_change(c, f"{path}: change {i + 1}") for i, c in enumerate(raw_changes))
    date = str(data.get("date") or "")
    if date and not _DATE.fullmatch(date):
        raise RevisionFormatError(path, f"`date` must be an ISO date such as \"2025-11-15\" or "
                                        f"\"2025-11-15T21:10:00+00:00\", got {date[:60]!r}")
    return Revision(rid, tuple(parents), date, title.strip(), changes, path)


def parse_change(data: Any, where: str) -> Change:
    if not isinstance(data, dict) or data.get("op") not in OPS:
        raise RevisionFormatError(where, f"each change needs `op` (one of {', '.join(OPS)})")
    op = data["op"]
    fields = set(data) - {"op", "rationale"}
    missing = _REQUIRED[op] - fields
    extra = fields - _ALLOWED[op]
    if missing:
        raise RevisionFormatError(where, f"`{op}` needs {sorted(missing)}")
    if extra:
        raise RevisionFormatError(where, f"`{op}` does not take {sorted(extra)}")
    rationale = data.get("rationale")
    if not isinstance(rationale, str) or not rationale.strip():
        raise RevisionFormatError(where, "every change needs a non-empty `rationale` (why the value changed)")
    kwargs = {k: data[k] for k in fields}
    for name in ("key", "to", "name", "after", "was_after"):  # every field that names a key
        if name in kwargs and (not isinstance(kwargs[name], str) or not kwargs[name]):
            if name in ("after", "was_after") and kwargs[name] is None:
                continue  # `after: ~` is no position, as if absent
            raise RevisionFormatError(where, f"`{name}` must be a non-empty string")
    if "args" in kwargs and not isinstance(kwargs["args"], dict):
        raise RevisionFormatError(where, "`args` must be a mapping")
    if op == "transform":
        from .transforms import problem  # the registry is checked when the revision loads

        why = problem(kwargs["name"], kwargs.get("args") or {})
        if why is not None:
            raise RevisionFormatError(where, why)
    return Change(op=op, rationale=" ".join(rationale.split()), **kwargs)
