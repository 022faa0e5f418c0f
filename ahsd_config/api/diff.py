"""`diff`: per-key differences between two configs (revisions, files, or files at a git commit),
with the chain's steps between two revisions and the rules whose findings cross.

Each file is read once, on the loader's C road (diff writes nothing). A state's rule findings are
judged on the state written as YAML by libyaml's emitter with the YAML 1.2 resolver (`state_text`):
the same values and the same plain-or-quoted spelling as ruamel's writer, ~10x faster
(tests/test_migrate_scale.py compares the two).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Container

from ahsd_config.api.chain import chain_or_load as _chain
from ahsd_config.errors import UsageError
from ahsd_config.input.loader import load_file, load_text, make_yaml, to_plain
from ahsd_config.migrate import keys
from ahsd_config.migrate.apply import STAMP_KEY
from ahsd_config.migrate.graph import RevisionMap
from ahsd_config.migrate.model import Revision
from ahsd_config.migrate.walk import StepRecord, replay_and_record
from ahsd_config.values import MISSING, float_text, json_value


@dataclass(frozen=True)
class RuleCrossing:
    """A rule whose finding on this key changes between A and B ("clean" = no finding)."""

    code: str
    old: str  # error | warning | info | clean
    new: str

    def __str__(self) -> str:
        return f"{self.code} {self.old} -> {self.new}"

    def to_json(self) -> dict:
        return {"code": self.code, "old": self.old, "new": self.new}


@dataclass
class KeyDiff:
    key: str
    kind: str  # added | removed | changed
    old: Any
    new: Any
    steps: list[StepRecord] = field(default_factory=list)
    returned: bool = False  # moved and came back within the range (only with history)
    rules: list[RuleCrossing] = field(default_factory=list)  # shown as "AHSD101 error -> clean"


@dataclass
class DiffResult:
    a: str
    b: str
    changes: list[KeyDiff]
    a_revision: str | None = None
    b_revision: str | None = None
    revisions: list[Revision] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)  # moved and came back (listed with history)

    def to_json(self) -> dict:
        return {"from": self.a, "to": self.b, "changes": [
            {"key": c.key, "kind": c.kind, "old": _json(c.old), "new": _json(c.new),
             "steps": [{"revision": s.label, "old": _json(s.old), "new": _json(s.new),
                        "rationale": s.rationale} for s in c.steps],
             "rules": [r.to_json() for r in c.rules]}  # additive to PRODUCT.md's contract
            for c in self.changes]}


def _json(value: Any) -> Any:
    return json_value(to_plain(value))  # strict JSON: no NaN, no date or set objects


@dataclass
class Endpoint:
    label: str
    data: dict
    revision: str | None


GitShow = Callable[[str, Container[str]], str]  # (GITREV:path, the chain's ids) -> the file's text


def endpoint(spec: str, rmap: RevisionMap, git_show: GitShow | None = None) -> Endpoint:
    """A revision id / head / base, a file, or GITREV:path (the file at a git commit, read by
    `git_show`: the caller passes `ahsd_config.gate.git.show_at_commit`; this layer runs no git)."""
    if spec in ("head", "base") or spec in rmap:
        rid = rmap.resolve(spec)
        return Endpoint(spec, rmap.state(rid), rid)
    if Path(spec).exists():
        data = load_file(spec).plain()
    elif ":" in spec and git_show is not None:
        data = load_text(git_show(spec, rmap), spec).plain()
    else:
        known = ", ".join(rmap.order[-4:])
        raise UsageError(f"{spec!r} is neither a file nor a revision (revisions end with {known}, head; "
                         "`ahsd-config history --brief` lists them; GITREV:path reads a file at a git commit)")
    stamp_value = data.get(STAMP_KEY) if isinstance(data, dict) else None
    rid = str(stamp_value) if stamp_value is not None and str(stamp_value) in rmap else None
    return Endpoint(spec, data, rid)


def diff(a: str, b: str, history: bool = False, rmap: RevisionMap | None = None,
         rules: bool = True, git_show: GitShow | None = None) -> DiffResult:
    """Semantic per-key differences between A and B, with the chain's steps when both are revisions."""
    rmap = _chain(rmap)
    ea, eb = endpoint(a, rmap, git_show), endpoint(b, rmap, git_show)
    flat_a = {k: v for k, v in keys.flatten(ea.data).items() if k != STAMP_KEY}
    flat_b = {k: v for k, v in keys.flatten(eb.data).items() if k != STAMP_KEY}
    steps: dict[str, list[StepRecord]] = {}
    revisions: list[Revision] = []
    if ea.revision and eb.revision:
        revisions, steps = _walk_steps(rmap, ea.revision, eb.revision)
    out: list[KeyDiff] = []
    returned: list[str] = []
    for k, v in flat_b.items():
        if k not in flat_a:
            out.append(KeyDiff(k, "added", MISSING, v, steps.get(k, [])))
        elif not keys.same(flat_a[k], v):
            out.append(KeyDiff(k, "changed", flat_a[k], v, steps.get(k, [])))
        elif steps.get(k):
            returned.append(k)
            if history:
                out.append(KeyDiff(k, "changed", flat_a[k], v, steps[k], returned=True))
    for k, v in flat_a.items():
        if k not in flat_b:
            out.append(KeyDiff(k, "removed", v, MISSING, steps.get(k, [])))
    result = DiffResult(a, b, out, ea.revision, eb.revision, revisions, returned)
    if rules and out:
        _rule_crossings(result, ea.data, eb.data)
    return result


def returned_keys(a: str, b: str, rmap: RevisionMap | None = None, git_show: GitShow | None = None) -> list[str]:
    """Keys whose value moved and came back between two revisions (`DiffResult.returned` has them
    without a second diff)."""
    return diff(a, b, rmap=rmap, rules=False, git_show=git_show).returned


def _walk_steps(rmap: RevisionMap, a: str, b: str) -> tuple[list[Revision], dict[str, list[StepRecord]]]:
    path = rmap.path(a, b)
    _, records = replay_and_record(rmap.state(a), path)
    return [step.revision for step in path], records


def _rule_crossings(result: DiffResult, a: dict, b: dict) -> None:
    try:
        from ahsd_config.api.validate import validate_document
    except ImportError:  # pragma: no cover
        return
    def findings(data: dict) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        try:
            report = validate_document(load_text(state_text(data), "<state>"))
        except Exception:
            return out
        for f in report.findings:
            if not f.code.startswith("AHSD9") and f.code not in ("AHSD001",):
                out.setdefault(f.key, []).append((f.code, f.severity))
        return out
    fa, fb = findings(a), findings(b)
    for c in result.changes:
        before, after = dict(fa.get(c.key, [])), dict(fb.get(c.key, []))
        for code in sorted(set(before) | set(after)):
            if before.get(code) != after.get(code):
                c.rules.append(RuleCrossing(code, before.get(code, "clean"), after.get(code, "clean")))


def state_text(data: Any) -> str:
    """Plain data as a YAML file: floats in `values.float_text`'s spelling, a string plain wherever
    YAML 1.2 reads it back as that string (ruamel's rule), else quoted."""
    plain = to_plain(data)
    dumper = _state_dumper()
    if dumper is None:  # PyYAML without libyaml: ruamel writes the same values
        import io

        buf = io.StringIO()
        make_yaml().dump(plain, buf)
        return buf.getvalue()
    import yaml

    return yaml.dump(plain, Dumper=dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)


@functools.lru_cache(maxsize=1)
def _state_dumper() -> type | None:
    from ahsd_config.input import yaml_c

    if not yaml_c.AVAILABLE:
        return None
    import yaml
    from yaml.nodes import ScalarNode

    class StateDumper(yaml.CSafeDumper):  # type: ignore[misc, name-defined]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:  # implicit = (plain, quoted): plain only where 1.2 agrees
                return yaml_c.resolve_plain(value) if implicit[0] else "tag:yaml.org,2002:str"
            return super().resolve(kind, value, implicit)

    StateDumper.add_representer(float, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", float_text(v)))
    StateDumper.add_representer(type(None), lambda d, v: d.represent_scalar("tag:yaml.org,2002:null", ""))
    return StateDumper
