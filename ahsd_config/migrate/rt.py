"""Edits on the ruamel round-trip tree that keep comments where a reader expects them.

ruamel keeps the comment lines that follow a key (its end-of-line comment, then every full-line
comment and blank line up to the next key) in ONE token, `map.ca.items[key][2]` - so a comment
written *above* key B lives in the token of the key before it (or of that key's last descendant).
A "trail" here is that token split into `eol` (the end-of-line comment, "" for none) and `rest`
(the lines after it). Every edit moves `rest` so the lines stay above the key they were above:

- set: the value changes, the token stays (eol comment and float/quote style survive);
- remove B: B's eol and the comment block directly above B (no blank line between) go with B,
  unless that block heads a group B starts (blank line before it and the next key directly
  after B); B's `rest` moves to the key before B;
- add N after A: A keeps its eol, N gets the comment lines passed in (above N) and A's old `rest`;
- rename in place keeps the whole token; a move to another section carries the eol comment.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarfloat import ScalarFloat
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from ahsd_config.input.loader import make_yaml
from ahsd_config.values import MISSING, float_text

from . import keys

Holder = tuple[Any, Any, int]  # (container, key or index, slot in ca.items[...])


def holder(cm: Any, key: Any) -> Holder:
    """Where the comment lines after `cm[key]` (and its whole subtree) are stored."""
    value = cm[key]
    if isinstance(value, CommentedMap) and len(value):
        return holder(value, _last_key(value))
    if isinstance(value, CommentedSeq) and len(value) and not value.fa.flow_style():
        last = len(value) - 1
        if isinstance(value[last], CommentedMap) and len(value[last]):
            return holder(value[last], _last_key(value[last]))
        return (value, last, 0)
    return (cm, key, 2)


def _last_key(cm: CommentedMap) -> Any:
    """The mapping's last key without listing them all (a section of 20,000 keys)."""
    return next(reversed(cm))  # OrderedDict order: the order `keys()` lists


def get_trail(h: Holder) -> tuple[str, str, int]:
    """(eol, rest, column) of the token at `h`; ("", "", 0) when there is none."""
    container, key, slot = h
    entry = container.ca.items.get(key)
    token = entry[slot] if entry and len(entry) > slot else None
    if token is None:
        return "", "", 0
    if isinstance(token, list):  # a list of tokens (rare): join them
        text = "".join(t.value for t in token if t is not None)
        column = token[0].column if token and token[0] is not None else 0
    else:
        text, column = token.value, token.column
    eol, _, rest = text.partition("\n")
    return eol.strip() and eol or "", rest, column


def set_trail(h: Holder, eol: str, rest: str, column: int = 0) -> None:
    container, key, slot = h
    size = 2 if isinstance(container, CommentedSeq) else 4
    entry = container.ca.items.setdefault(key, [None] * size)
    while len(entry) <= slot:
        entry.append(None)
    if not eol and not rest:
        entry[slot] = None
        if all(e is None for e in entry):
            del container.ca.items[key]
        return
    text = (eol or "") + "\n" + rest
    old = entry[slot]
    if isinstance(old, CommentToken):
        old.value = text
    else:
        entry[slot] = CommentToken(text, CommentMark(column), None)
    value = container[key] if not isinstance(container, CommentedSeq) else None
    if isinstance(value, CommentedSeq) and value.fa.flow_style() and value.ca.comment:
        value.ca.comment[0] = entry[slot]  # flow lists keep the same token in two places


def own_block(prest: str, my_rest: str, has_next: bool) -> tuple[str, str]:
    """Split the lines above a key into (kept, own): own = the comment block directly above it."""
    lines = prest.splitlines(keepends=True)
    cut = len(lines)
    while cut > 0 and lines[cut - 1].strip().startswith("#"):
        cut -= 1
    before, block = lines[:cut], lines[cut:]
    if not block:
        return prest, ""
    heads_group = bool(before) and not before[-1].strip() and has_next and (
        not my_rest or my_rest.lstrip(" ").startswith("#")
    )
    if heads_group:
        return prest, ""
    return "".join(before), "".join(block)


def remove(cm: CommentedMap, key: Any) -> Any:
    order = list(cm.keys())
    i = order.index(key)
    eol, rest, _ = get_trail(holder(cm, key))
    has_next = i + 1 < len(order)
    value = cm[key]
    if i > 0:
        ph = holder(cm, order[i - 1])
        peol, prest, pcol = get_trail(ph)
        kept, _own = own_block(prest, rest, has_next)
        del cm[key]
        cm.ca.items.pop(key, None)
        set_trail(ph, peol, kept + rest, pcol)
    else:
        del cm[key]
        cm.ca.items.pop(key, None)
        if rest.strip() and has_next:
            _prepend_above_first(cm, rest)
    return value


def _prepend_above_first(cm: CommentedMap, text: str) -> None:
    if cm.ca.comment is None:
        cm.ca.comment = [None, []]
    while len(cm.ca.comment) < 2:
        cm.ca.comment.append(None)
    if cm.ca.comment[1] is None:
        cm.ca.comment[1] = []
    cm.ca.comment[1].append(CommentToken(text, CommentMark(0), None))


def insert(cm: CommentedMap, key: Any, value: Any, pos: int, above: str = "", eol: str = "",
           column: int = 0) -> None:
    """Insert `key` at `pos`; `above` = comment lines (with indentation and newlines) above it."""
    order = list(cm.keys())
    prev = order[pos - 1] if pos > 0 else None
    if prev is not None:
        ph = holder(cm, prev)
        peol, prest, pcol = get_trail(ph)
    cm.insert(pos, key, value)
    if prev is not None:
        set_trail(ph, peol, above, pcol)
        set_trail(holder(cm, key), eol, prest, column)
    elif eol:
        set_trail(holder(cm, key), eol, "", column)


def rename_in_place(cm: CommentedMap, key: Any, new_key: Any, indent: int = 0) -> None:
    order = list(cm.keys())
    pos = order.index(key)
    entry = cm.ca.items.pop(key, None)
    value = cm[key]
    del cm[key]
    cm.insert(pos, new_key, value)
    if entry is not None:
        cm.ca.items[new_key] = entry
        token = entry[2] if len(entry) > 2 else None
        if isinstance(token, CommentToken) and not token.value.startswith("\n") and not isinstance(value, dict):
            # keep the comment's column (alignment) while the new line fits; else keep its gap
            width = len(str(new_key)) + 2 + len(_scalar_text(value)) if not isinstance(value, list) else 0
            if token.column <= width + indent:
                token.column = token.column + len(str(new_key)) - len(str(key))


def styled(old: Any, new: Any) -> Any:
    """`new` written the way `old` was: float notation and precision, quote style, flow lists."""
    if isinstance(new, bool) or new is None:
        return new
    if isinstance(new, float) and isinstance(old, float) and not isinstance(old, bool):
        return _float_like(old, new)
    if isinstance(new, str):
        if isinstance(old, DoubleQuotedScalarString):
            return DoubleQuotedScalarString(new)
        if isinstance(old, SingleQuotedScalarString):
            return SingleQuotedScalarString(new)
        return new
    if isinstance(new, list) and isinstance(old, CommentedSeq):
        return _seq_like(old, new)
    return to_rt(new)


def to_rt(value: Any) -> Any:
    """Plain data -> ruamel nodes (mappings block style, scalar lists flow style)."""
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = to_rt(v)
        return out
    if isinstance(value, list):
        seq = CommentedSeq(to_rt(v) for v in value)
        if all(not isinstance(v, (dict, list)) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def _scalar_text(value: Any) -> str:
    yaml = make_yaml()
    buf = io.StringIO()
    yaml.dump({"x": value}, buf)
    return buf.getvalue().split(":", 1)[1].strip()


def _exp_style(text: str) -> bool:
    return "e" in text.lower() and not text.lower().startswith((".", "-.", "+."))


def _float_like(old: float, new: float) -> Any:
    text = _scalar_text(old)
    if isinstance(new, ScalarFloat) and _exp_style(text) == _exp_style(_scalar_text(new)):
        # the revision file spelled the value in the file's notation already (it was recorded from
        # a config): keep its digits. Padding cannot be guessed from the value being replaced: a
        # revert of 0.5 -> 0.25 must write 0.5 back, of 0.10 -> 0.35 must write 0.10 back
        return new
    low = text.lower()
    if "e" in low and not low.startswith((".", "-.", "+.")):
        mant, _, exp = low.partition("e")
        decimals = len(mant.split(".", 1)[1]) if "." in mant else 0
        digits = len(exp.lstrip("+-"))
        m, e = f"{new:.{max(decimals, 0)}e}".split("e")
        if float(f"{m}e{e}") != new:  # more precision needed
            m, e = f"{new:e}".split("e")
            m = m.rstrip("0")
            m = m + "0" * max(0, decimals - len(m.split(".")[1])) if "." in m else m
            if m.endswith("."):
                m = m + "0" if decimals else m[:-1]
        # a dot in the mantissa and a signed exponent, whatever the old spelling lacked: YAML 1.1
        # (PyYAML) reads `3e-3` or `2.0e5` as strings, and AHSD003 would flag our own output
        m = m if "." in m else m + ".0"
        sign = "-" if int(e) < 0 else "+"
        e_text = f"{abs(int(e)):0{digits}d}"
        out = f"{m}{'E' if 'E' in text else 'e'}{sign}{e_text}"
    else:
        decimals = len(text.split(".", 1)[1]) if "." in text else 1
        out = f"{new:.{decimals}f}"
        if decimals > 2 and not text.endswith("0") and "." in out:
            # 0.075 is the precision a value needed, not a house style: reverting 0.15 -> 0.075 must
            # give 0.15 back, not 0.150 (AHSD605 on every halved two-decimal weight)
            out = out.rstrip("0")
            out = out + "0" if out.endswith(".") else out
        if float(out) != new:
            out = float_text(new)
    loaded = make_yaml().load(f"x: {out}\n")["x"]
    # ruamel re-renders a ScalarFloat from its value and can drop the last digit (4.402602171416664e-231
    # came out ...663): keep the styled float only when it writes back exactly as formatted
    exact = isinstance(loaded, float) and loaded == new and _scalar_text(loaded) == out
    return loaded if exact else new


def _seq_like(old: CommentedSeq, new: list) -> CommentedSeq:
    seq = CommentedSeq(to_rt(v) for v in new)
    if old.fa.flow_style():
        seq.fa.set_flow_style()
        if old.ca.comment:
            seq._yaml_comment = old.ca  # the eol comment after `]` stays
        return seq
    olds = list(old)
    used: set[int] = set()
    last_rest = get_trail((old, len(old) - 1, 0))[1] if len(old) else ""
    for i, v in enumerate(new):
        j = next((j for j, o in enumerate(olds) if j not in used and keys.same(o, v)), None)
        eol, col = "", 0
        if j is not None:
            used.add(j)
            eol, _, col = get_trail((old, j, 0))
        rest = last_rest if i == len(new) - 1 else ""
        if eol or rest:
            set_trail((seq, i, 0), eol, rest, col)
    return seq


def lookup(data: Any, dotted: str) -> tuple[Any, Any]:
    found = keys.resolve(data, dotted)
    if found is None:
        return None, MISSING
    parent, key = found
    return parent, key


def exists(data: Any, dotted: str) -> bool:
    return keys.get(data, dotted) is not MISSING
