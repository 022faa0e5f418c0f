"""Apply revision steps to a config *text*, keeping everything a human wrote.

`apply_text(text, steps, ...)` loads the text on the round-trip tree, applies every step's changes
(rt.py keeps the comments in place), stamps the target revision, dumps, and then *splices*: only
the lines that the edits changed are taken from ruamel's output; every other line is copied from
the original bytes, so whitespace quirks ruamel would normalise (trailing spaces, sequence indent)
survive. Conflicts are collected for every step first; with any and no `on_conflict`, nothing is
written and `MigrationConflict` lists them all.
"""

from __future__ import annotations

import difflib
import io
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ruamel.yaml.comments import CommentedMap

from ahsd_config.input.loader import load_text, make_yaml, to_plain
from ahsd_config.values import MISSING

from . import keys, rt, transforms
from .errors import Conflict, MigrationConflict
from .graph import Step
from .state import Prim, check, primitive

STAMP_KEY = "revision"
KeyOrder = Callable[[str], list[str]]  # dotted section -> its field names in schema order


@dataclass
class Applied:
    text: str
    data: Any  # plain data of the result
    conflicts: list[Conflict] = field(default_factory=list)  # resolved by on_conflict
    changed: bool = False


def apply_text(text: str, steps: Sequence[Step], *, target: str | None, path: str = "<config>",
               on_conflict: str | None = None, implicit: frozenset[str] = frozenset(),
               key_order: KeyOrder | None = None, stamp: bool = True) -> Applied:
    """Apply `steps` to `text`; stamp `target`. on_conflict: None (raise) | 'keep' | 'take'.

    A CRLF file is migrated as LF and written back as CRLF: every line keeps the file's ending."""
    if "\r\n" in text:
        lf = apply_text(text.replace("\r\n", "\n"), steps, target=target, path=path, on_conflict=on_conflict,
                        implicit=implicit, key_order=key_order, stamp=stamp)
        crlf = lf.text.replace("\n", "\r\n")
        return Applied(crlf, lf.data, lf.conflicts, crlf != text)
    norm = _blank_lines(text)
    doc = load_text(norm, path, roundtrip=True)  # the writer edits ruamel's comment-carrying data
    data = doc.data
    # ruamel's rendering of the text as read, dumped before any edit (dumping leaves the data as
    # it was: the representer resets the comment marks the emitter sets), so the text is parsed
    # once however many steps follow
    before = dump(data, text)
    conflicts: list[Conflict] = []
    said: set[tuple[str, str]] = set()  # one rationale comment per revision and reason
    for step in steps:
        changes = reversed(step.revision.changes) if step.down else step.revision.changes
        for change in changes:
            p = primitive(change, step.down)
            conflict = check(data, p, step.revision.id, implicit)
            if conflict is not None:
                conflicts.append(conflict)
                if on_conflict == "keep":
                    continue
            _apply(data, p, step.revision.id, step.down, implicit, key_order, said)
    if conflicts and on_conflict is None:
        raise MigrationConflict(path, conflicts)
    if stamp and target is not None:
        set_stamp(data, target)
    new_text = splice(text, before, dump(data, text))
    return Applied(new_text, to_plain(data), conflicts, new_text != text)


def set_stamp(data: CommentedMap, revision: str) -> None:
    if STAMP_KEY in data:
        data[STAMP_KEY] = rt.styled(data[STAMP_KEY], revision)
        return
    order = list(data.keys())
    pos = order.index("device") + 1 if "device" in order else 0
    rt.insert(data, STAMP_KEY, revision, pos, eol="# migration revision: `ahsd-config current/migrate`",
              column=len(STAMP_KEY) + len(revision) + 4)


def _apply(data: Any, p: Prim, rid: str, down: bool, implicit: frozenset[str],
           key_order: KeyOrder | None, said: set | None = None) -> None:
    if p.kind == "transform":
        before = to_plain(data)
        after = transforms.run(p.name, before, p.args or {}, down=p.down)
        _apply_flat_diff(data, keys.flatten(before), keys.flatten(after))
        return
    keys.require_sections(data, p.key, rid)
    if p.kind == "move":
        keys.require_sections(data, p.to, rid)
    parent, key = rt.lookup(data, p.key)
    found = parent[key] if parent is not None and key in parent else MISSING
    if found is MISSING and p.key in implicit and p.kind != "add":
        return
    if p.kind == "move":
        if found is MISSING:
            return
        _move(data, p, key_order)
        return
    if p.want is MISSING:
        if found is not MISSING:
            rt.remove(parent, key)
            _prune(data, p.key)
        return
    if found is MISSING:
        above = "" if down or (said is not None and (rid, p.rationale) in said) else _comment(rid, p.rationale, p.key)
        if said is not None:
            said.add((rid, p.rationale))
        _add(data, p.key, rt.to_rt(p.want), p.after, above, key_order)
    else:
        parent[key] = rt.styled(found, p.want)


def _move(data: Any, p: Prim, key_order: KeyOrder | None) -> None:
    src_parent, src_key = rt.lookup(data, p.key)
    src_section, dst_section = p.key.rpartition(".")[0], p.to.rpartition(".")[0]
    new_name = p.to.rpartition(".")[2]
    if src_section == dst_section and p.after is None:
        rt.rename_in_place(src_parent, src_key, new_name, indent=2 * (len(keys.split(p.key)) - 1))
        return
    eol, _, col = rt.get_trail(rt.holder(src_parent, src_key))
    value = rt.remove(src_parent, src_key)
    _prune(data, p.key)
    _add(data, p.to, value, p.after, "", key_order, eol=eol, column=col)


def _add(data: Any, dotted: str, value: Any, after: str | None, above: str,
         key_order: KeyOrder | None, eol: str = "", column: int = 0) -> None:
    parts = keys.split(dotted)
    node = data
    for depth, part in enumerate(parts[:-1]):
        real = keys.match(node, part)
        if real is MISSING:
            section = ".".join(parts[:depth])
            pos = _position(node, section, part, None, key_order)
            rt.insert(node, part, CommentedMap(), pos)
            real = part
        node = node[real]
    name = parts[-1]
    if name.isdigit() and any(isinstance(k, int) for k in node):
        name = int(name)
    section = ".".join(parts[:-1])
    indent = "  " * (len(parts) - 1)
    above = "".join(indent + line + "\n" for line in above.splitlines()) if above else ""
    rt.insert(node, name, value, _position(node, section, str(name), after, key_order), above, eol, column)


def _position(node: Any, section: str, name: str, after: str | None,
              key_order: KeyOrder | None) -> int:
    """Right after `after`; else after the nearest earlier schema field present; else at the end.

    One pass over the section's keys (a name's first position), then lookups: a section of
    20,000 keys costs one pass per added key, not one per schema field."""
    at: dict[str, int] = {}
    for i, k in enumerate(node):
        at.setdefault(str(k), i)
    if after is not None and after in at:
        return at[after] + 1
    if after is None and key_order is not None:
        fields = key_order(section)
        if name in fields:
            earlier = fields[: fields.index(name)]
            for prev in reversed(earlier):
                if prev in at:
                    return at[prev] + 1
            later = fields[fields.index(name) + 1:]
            present_later = [at[f] for f in later if f in at]
            if present_later:
                return min(present_later)
    return len(node)


def _prune(data: Any, dotted: str) -> None:
    parts = keys.split(dotted)[:-1]
    while parts:
        parent, key = rt.lookup(data, ".".join(parts))
        if parent is None or key not in parent or not isinstance(parent[key], dict) or len(parent[key]):
            return
        rt.remove(parent, key)
        parts = parts[:-1]


def _apply_flat_diff(data: Any, before: dict, after: dict) -> None:
    for k in before:
        if k not in after:
            parent, key = rt.lookup(data, k)
            if parent is not None and key in parent:
                rt.remove(parent, key)
                _prune(data, k)
    for k, v in after.items():
        if k not in before:
            _add(data, k, rt.to_rt(v), None, "", None)
        elif not keys.same(before[k], v):
            parent, key = rt.lookup(data, k)
            parent[key] = rt.styled(parent[key], v)


def _comment(rid: str, rationale: str, key: str) -> str:
    text = f"{rid}: {rationale}" if rationale else rid
    return "\n".join("# " + line for line in textwrap.wrap(text, 96))


def dump(data: Any, like: str = "") -> str:
    """Dump with the sequence indentation the original text uses."""
    yaml = make_yaml()
    mapping, seq, offset = _indent_of(like)
    yaml.indent(mapping=mapping, sequence=seq, offset=offset)
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def _indent_of(text: str) -> tuple[int, int, int]:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.lstrip(" ")
        if stripped.startswith("- ") and i > 0:
            j = i - 1
            while j >= 0 and (not lines[j].strip() or lines[j].lstrip().startswith("#")):
                j -= 1
            if j >= 0 and lines[j].rstrip().endswith(":"):
                parent_indent = len(lines[j]) - len(lines[j].lstrip(" "))
                offset = len(line) - len(stripped) - parent_indent
                if offset >= 0:
                    return 2, offset + 2, offset
    return 2, 2, 0


def _blank_lines(text: str) -> str:
    """Whitespace-only lines as empty lines: ruamel drops the former but keeps the latter in its
    comment tokens, and the blank line is what tells a group header from a key's own comment."""
    return re.sub(r"(?m)^[ \t]+$", "", text)


def splice(original: str, old_dump: str, new_dump: str) -> str:
    """The lines ruamel changed between `old_dump` (of `original`) and `new_dump`, applied to
    `original` itself; every other line keeps its original bytes."""
    if old_dump == new_dump:
        return original
    O = original.splitlines(keepends=True)
    D = old_dump.splitlines(keepends=True)
    M = new_dump.splitlines(keepends=True)
    # units: each D line maps to a run of O lines (its own line, or a rewritten block, plus the
    # O-only lines ruamel dropped before it)
    unit_of: list[int] = [0] * len(D)
    units: list[list[str]] = []
    pending: list[str] = []
    for tag, i1, i2, j1, j2 in line_opcodes(O, D):
        if tag == "equal":
            for k in range(i2 - i1):
                units.append(pending + [O[i1 + k]])
                pending = []
                unit_of[j1 + k] = len(units) - 1
        elif tag == "delete":
            pending += O[i1:i2]
        else:  # replace / insert: the D block stands for the O block
            units.append(pending + O[i1:i2])
            pending = []
            for j in range(j1, j2):
                unit_of[j] = len(units) - 1
    tail = pending
    kept = [False] * len(D)
    ops = line_opcodes(D, M)
    for tag, i1, i2, _, _ in ops:
        if tag == "equal":
            for i in range(i1, i2):
                kept[i] = True
    intact = {}
    for j, u in enumerate(unit_of):
        intact[u] = intact.get(u, True) and kept[j]
    out: list[str] = []
    emitted: set[int] = set()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            for j in range(i1, i2):
                u = unit_of[j]
                if intact[u]:
                    if u not in emitted:
                        out += units[u]
                        emitted.add(u)
                else:
                    out.append(D[j])
        else:
            out += M[j1:j2]
    out += tail
    return "".join(out)


# difflib's matcher visits, for each line of one side, every equal line of the other: a file whose
# lines repeat (a list of 8,000 equal items) made `splice` quadratic (49 s). Past this many visits
# the alignment is anchored instead; below it (every ordinary config) difflib's answer is kept.
MATCHER_VISITS = 1_000_000

Opcode = tuple[str, int, int, int, int]


def line_opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """`difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()`, in linear-ish time on
    lines that repeat: equal ends are matched first, then lines found once on each side anchor the
    rest (patience diff), and difflib aligns each stretch between anchors that is cheap for it."""
    if _visits(a, 0, len(a), b, 0, len(b)) <= MATCHER_VISITS:
        return difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    blocks: list[tuple[int, int, int]] = []
    _match(a, 0, len(a), b, 0, len(b), blocks)
    return _opcodes(blocks, len(a), len(b))


def _visits(a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int) -> int:
    counts: dict[str, int] = {}
    for line in b[blo:bhi]:
        counts[line] = counts.get(line, 0) + 1
    return sum(counts.get(line, 0) for line in a[alo:ahi])


def _match(a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int,
           out: list[tuple[int, int, int]]) -> None:
    """Append the matching blocks (i, j, n) of a[alo:ahi] and b[blo:bhi], in order."""
    head = 0
    while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
        head += 1
    if head:
        out.append((alo, blo, head))
    alo, blo = alo + head, blo + head
    tail = 0
    while alo < ahi - tail and blo < bhi - tail and a[ahi - 1 - tail] == b[bhi - 1 - tail]:
        tail += 1
    ahi, bhi = ahi - tail, bhi - tail
    if alo < ahi and blo < bhi:
        if _visits(a, alo, ahi, b, blo, bhi) <= MATCHER_VISITS:
            matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            out.extend((alo + i, blo + j, n) for i, j, n in matcher.get_matching_blocks() if n)
        else:
            i0, j0 = alo, blo
            for i, j in _anchors(a, alo, ahi, b, blo, bhi):
                _match(a, i0, i, b, j0, j, out)
                out.append((i, j, 1))
                i0, j0 = i + 1, j + 1
            if (i0, j0) != (alo, blo):  # no anchor left the stretch unmatched: no recursion
                _match(a, i0, ahi, b, j0, bhi, out)
    if tail:
        out.append((ahi, bhi, tail))


def _anchors(a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int) -> list[tuple[int, int]]:
    """Lines found exactly once on each side, the longest run of them in the same order on both."""
    once_a: dict[str, int | None] = {}
    for i in range(alo, ahi):
        once_a[a[i]] = None if a[i] in once_a else i
    once_b: dict[str, int | None] = {}
    for j in range(blo, bhi):
        once_b[b[j]] = None if b[j] in once_b else j
    pairs = [(i, once_b[line]) for line, i in once_a.items()
             if i is not None and once_b.get(line) is not None]
    pairs.sort()
    # longest increasing run of j (patience sorting): tails[k] = pair index ending a run of k + 1
    tails: list[int] = []
    back: list[int] = []
    for n, (_, j) in enumerate(pairs):
        k = _bisect(pairs, tails, j)
        back.append(tails[k - 1] if k else -1)
        if k == len(tails):
            tails.append(n)
        else:
            tails[k] = n
    run, n = [], tails[-1] if tails else -1
    while n >= 0:
        run.append(pairs[n])
        n = back[n]
    return run[::-1]


def _bisect(pairs: list[tuple[int, int]], tails: list[int], j: int) -> int:
    """The first run length whose smallest last j is not below `j`."""
    lo, hi = 0, len(tails)
    while lo < hi:
        mid = (lo + hi) // 2
        if pairs[tails[mid]][1] < j:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _opcodes(blocks: list[tuple[int, int, int]], la: int, lb: int) -> list[Opcode]:
    """difflib's `get_opcodes` from matching blocks (adjacent blocks joined, as difflib does)."""
    joined: list[tuple[int, int, int]] = []
    for i, j, n in blocks:
        if joined and joined[-1][0] + joined[-1][2] == i and joined[-1][1] + joined[-1][2] == j:
            joined[-1] = (joined[-1][0], joined[-1][1], joined[-1][2] + n)
        else:
            joined.append((i, j, n))
    ops: list[Opcode] = []
    i = j = 0
    for ai, bj, size in joined + [(la, lb, 0)]:
        tag = "replace" if i < ai and j < bj else "delete" if i < ai else "insert" if j < bj else ""
        if tag:
            ops.append((tag, i, ai, j, bj))
        i, j = ai + size, bj + size
        if size:
            ops.append(("equal", ai, i, bj, j))
    return ops
