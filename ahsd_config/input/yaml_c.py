"""The C road of the loader: libyaml (through PyYAML's C parser) composes, Python resolves and builds.

libyaml is a YAML 1.1 parser, ruamel (the round-trip road) a YAML 1.2 one, and the config's meaning
is YAML 1.2. So only the *syntax* is libyaml's here; what a plain scalar means comes from
`RESOLVERS`, ruamel's own YAML 1.2 table (a test compares them pattern by pattern), and values are
built the way ruamel's round-trip constructor builds them, then made plain (`loader.to_plain`).

Read here exactly as the round-trip road reads them (tests/test_loader_roads.py: an example each,
and hypothesis over generated and mutated documents holding them):

- anchors and aliases: an alias is the anchored node itself on both roads, so the inspector counts
  its expansion the same way and refuses a bomb (in keys or values) before anything is built; each
  node is built once. An anchored bool is ruamel's ScalarBoolean, an int: 1 or 0 once plain.
  `!tag &anchor x` is placed at the anchor (PyYAML's parser does; libyaml places it at the tag).
- merge keys: ruamel's rule (CommentedMap.add_yaml_merge): the mapping's own keys (the first of
  duplicates wins), then each merged mapping's keys not yet present, the earlier mapping first.
- block scalars, every header: libyaml's value is ruamel's (ruamel marks folds with "\a" in the
  node, which the loader strips wherever it shows a value).
- explicit standard tags and timestamps: built by ruamel's round-trip constructor itself, node by
  node (ruamel is imported only for a file that has one); `!!str 5` is ruamel's TaggedScalar,
  which `to_plain` makes the string it holds on both roads.

Still declined (`Decline`: the loader asks the round-trip road, which reads the whole file at
~3 s/MB), each because the two readers disagree and matching ruamel would mean re-implementing a
part of its scanner:

- on the text (`unusual_text`, before any parsing): directives (`%YAML`, `%TAG`), tabs, a lone CR,
  U+0085/2028/2029 (line breaks to YAML 1.1 only), a BOM past the start, a block header with `#`
  right after its indicators, a block scalar whose first blank line holds spaces and a later line
  more (ruamel refuses it), a tag or an anchor/alias name with a character past its plain name
  (`!!!x`, `[!a, b]`, `&k:`: each scanner ends the name elsewhere). These are text tests because a
  syntax error further on is located by a partial ruamel read that trusts the text before it;
- on the tree: the non-specific tag on a collection (`! [1]`), a mapping written in a flow list
  (`[k: v]` pairs), an empty key, a comment or explicit key after an empty value, an empty
  document, a reused anchor name (libyaml refuses it, ruamel takes the last), a second document,
  a key tagged `!!str` (ruamel keeps each as its own key), `!!omap`/`!!set`/`!!pairs`, `=` and
  `<<` as values;
- while building, what ruamel refuses only then: a second merge key, a merge of something other
  than mappings, a timestamp or tagged scalar its constructor cannot build (`2025-13-45`,
  `!!int x`); and a file nested deeper than the inspector's limit (ruamel's own recursion limit
  may answer first, at a depth that depends on the stack).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

try:  # the wheels on PyPI ship libyaml; a build without it only loses speed
    from yaml._yaml import CParser
    from yaml.nodes import ScalarNode

    AVAILABLE = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser, ScalarNode = object, None
    AVAILABLE = False

_P = "tag:yaml.org,2002:"

# ruamel.yaml's implicit resolvers for YAML 1.2 (ruamel/yaml/resolver.py, `implicit_resolvers`
# entries whose versions include (1, 2)), in its order: (tag, pattern, first characters).
RESOLVERS: list[tuple[str, str, str]] = [
    (_P + "bool", r"""^(?:true|True|TRUE|false|False|FALSE)$""", "tTfF"),
    (_P + "float", r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", "-+0123456789."),
    (_P + "int", r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""", "-+0123456789"),
    (_P + "merge", r"^(?:<<)$", "<"),
    (_P + "null", r"""^(?: ~
        |null|Null|NULL
        | )$""", "~nN\0"),  # \0 stands for the empty scalar's key, ''
    (_P + "timestamp", r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", "0123456789"),
    (_P + "value", r"^(?:=)$", "="),
    (_P + "yaml", r"^(?:!|&|\*)$", "!&*"),
]


class Tag(str):
    """A tag this module's resolver gave (an implicit one); a tag written in the file is a plain
    str from the C parser, so `type(node.tag) is Tag` tells the two apart."""


def _table() -> dict[str, list[tuple[Tag, re.Pattern[str]]]]:
    table: dict[str, list[tuple[Tag, re.Pattern[str]]]] = {}
    for tag, pattern, firsts in RESOLVERS:
        entry = (Tag(tag), re.compile(pattern, re.X))
        for first in firsts:
            table.setdefault("" if first == "\0" else first, []).append(entry)
    return table


_BY_FIRST = _table()
STR, SEQ, MAP = Tag(_P + "str"), Tag(_P + "seq"), Tag(_P + "map")
_INF = float("inf")


class Decline(Exception):
    """The C road cannot answer exactly as the round-trip road would; the loader asks that road."""


def resolve_plain(value: str) -> Tag:
    """The tag ruamel gives an untagged plain scalar under YAML 1.2."""
    for tag, pattern in _BY_FIRST.get(value[:1], ()):
        if pattern.match(value):
            return tag
    return STR


class _Parser(CParser):  # type: ignore[misc, valid-type]
    """libyaml's composer with the YAML 1.2 resolver; records what it cannot resolve alike."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.declined = False

    def descend_resolver(self, parent: Any, index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Tag:
        if kind is ScalarNode:
            plain, quoted = implicit
            if plain:
                return resolve_plain(value)
            self.declined |= not quoted  # neither plain nor quoted: no such scalar is known to libyaml
            return STR
        self.declined |= not implicit  # `! [1]`: the non-specific tag on a collection
        return SEQ if kind.id == "sequence" else MAP


# The text-level signs of what this road declines. U+0085/2028/2029 break lines in YAML 1.1, not 1.2;
# A lone CR, and tabs (libyaml takes `key\t: 1`, ruamel refuses it), are rare enough in a config not
# to be worth proving alike. A BOM past the start (the loader strips a leading one) is a character
# to libyaml but takes no column in ruamel's reader: every position after it would differ.
# A block scalar header with `#` right after its indicators (`>#x`) is refused by ruamel, taken by
# libyaml; a tag-like word with a character past its name (`!!!x`, `[!a, b]`), or an anchor or
# alias name with a character libyaml does not take (`&k:`; ruamel takes more) is scanned otherwise
# by each; ruamel refuses a block scalar whose first blank line holds spaces and a later line more
# ("more indented follow up line"), libyaml takes it. Both are found on the text, not the tree: a syntax error further on is located by a
# partial ruamel read that trusts the text before it to read alike.
_UNUSUAL = re.compile(r"^%|[\x85\u2028\u2029\ufeff]|\r(?!\n)|\t|[|>][-+0-9]*#"
                      r"|(?:^|[\s\[\]{},])!(?:![A-Za-z0-9_/:.\-]*[^A-Za-z0-9_/:.\-\s]"
                      r"|[A-Za-z0-9_/:.\-]+[^A-Za-z0-9_/:.\-\s]|[^A-Za-z0-9_/:.\-\s!<])"
                      r"|(?:^|[\s\[\]{},?:-])[&*][A-Za-z0-9_\-]*[^A-Za-z0-9_\-\s,\[\]{}]"
                      r"|[|>][-+]?[ ]*(?:#[^\n]*)?\n( +)\n(?:[ ]*\n)*\1 ", re.M)


def unusual_text(text: str) -> bool:
    """True when the text may hold a directive, a 1.1-only line break, a lone CR, an inner BOM or a
    tab (then the round-trip road reads it; a false alarm costs only speed)."""
    return _UNUSUAL.search(text) is not None


def nesting_past(text: str, limit: int) -> tuple[int, int] | None:
    """Where a node deeper than `limit` opens (1-based line, column; the root is depth 0), by one
    pass over libyaml's events; None when none does, or when libyaml stops at another error first.
    ruamel's scanner keeps its possible simple keys per flow level and re-checks them all at every
    token: 2,000 unclosed `[` took it 11 s (quadratic) before it named the missing `]`. libyaml has
    its own depth cap, past which its scanner, running ahead of the events, stops: the text before
    that point is read again to find the node."""
    parser = CParser(text)
    depth = 0
    try:
        while True:
            event = parser.get_event()
            kind = type(event).__name__
            if kind in _NODE_EVENTS and depth > limit:
                return (event.start_mark.line + 1, event.start_mark.column + 1)
            if kind in _OPEN_EVENTS:
                depth += 1
            elif kind in _CLOSE_EVENTS:
                depth -= 1
            elif kind == "StreamEndEvent":
                return None
    except Exception as exc:  # noqa: BLE001 - PyYAML's syntax errors: only libyaml's depth cap counts here
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and "maximum nesting depth" in str(exc):
            # its scanner runs ahead of the events: the text before its cap holds the deep node
            return nesting_past(text[:mark.index], limit) or (mark.line + 1, mark.column + 1)
        return None
    finally:
        parser.dispose()


_OPEN_EVENTS = {"SequenceStartEvent", "MappingStartEvent"}
_CLOSE_EVENTS = {"SequenceEndEvent", "MappingEndEvent"}
_NODE_EVENTS = _OPEN_EVENTS | {"ScalarEvent", "AliasEvent"}


def compose(text: str) -> Any:
    """The node tree of a one-document stream (None for an empty one); raises PyYAML's error on bad
    syntax (the loader words it as the round-trip road would), `Decline` on what that road must read.
    An alias is the anchored node itself, as on the round-trip road: the inspector counts its
    expansion and refuses a bomb before anything is built."""
    parser = _Parser(text)
    try:
        root = parser.get_single_node()
    except Exception as exc:  # noqa: BLE001
        from yaml.composer import ComposerError

        if isinstance(exc, ComposerError):  # a reused anchor (ruamel takes it) or a second document
            raise Decline(f"composer: {exc.problem}") from None
        raise
    finally:
        parser.dispose()
    if parser.declined:
        raise Decline("a non-specific tag")
    if root is not None:
        if root.id == "scalar" and root.value == "" and root.style == "":
            raise Decline("an empty document")  # each road places its empty node elsewhere
        _prepare(root, text)
    return root


class _Mark(NamedTuple):
    line: int
    column: int
    index: int = -1


def _prepare(root: Any, text: str) -> None:
    """Make libyaml's tree the round-trip road's before the inspector sees it (so a refusal on this
    road names the node that road names), or decline.

    An empty block-mapping value (`key:` and nothing after) is placed by libyaml just after the
    colon, by ruamel at the next token (the next key, or where the block ends). ruamel's place is
    the one findings have always named, so move each such node there. With a comment in between,
    ruamel's place depends on which token it hangs the comment on: declined. In a flow mapping
    (`{k: }`) it is the other way round: libyaml places it at the next token, ruamel just after
    the colon. A mapping in a flow list (`[k: v]` pairs): libyaml takes more of them than ruamel.
    Each node is visited once (an alias is the same node; a recursive one is the inspector's)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node.tag) is not Tag or text[node.start_mark.index:node.start_mark.index + 1] == "!":
            _check_written_tag(node, text)
            if text[node.start_mark.index:node.start_mark.index + 1] == "!":
                _mark_at_anchor(node, text)
        if node.id == "sequence":
            if node.flow_style and any(_flow_pair(item, node, text) for item in node.value):
                raise Decline("a mapping in a flow list")
            stack.extend(node.value)
        elif node.id == "mapping":
            for key_node, value_node in node.value:
                if key_node.id == "scalar" and key_node.value == "" and key_node.style == "":
                    raise Decline("an empty key")  # `{? }`, `? `: each road places it elsewhere
                stack.append(key_node)
                if value_node.id == "scalar" and value_node.value == "" and value_node.style == "" \
                        and id(value_node) not in seen and not _has_properties(value_node, text):
                    seen.add(id(value_node))
                    place = _ruamel_flow_empty_mark if node.flow_style else _ruamel_empty_mark
                    value_node.start_mark = place(text, value_node.start_mark)
                else:
                    stack.append(value_node)


def _flow_pair(item: Any, sequence: Any, text: str) -> bool:
    """A mapping written inside a flow list other than as `{...}` (an alias to a mapping is not)."""
    index = item.start_mark.index
    return item.id == "mapping" and index > sequence.start_mark.index and text[index] != "{"


# A tag as written that both scanners read alike: `!`, `!name`, `!!name`, `!<verbatim>` with ASCII
# name characters. Others (a flow indicator ends ruamel's tag in a flow collection, libyaml's not;
# `%21` escapes; `!!!x`; named handles) are refused on both roads, worded alike only by ruamel.
_PLAIN_TAG = re.compile(r"!(?:!?[A-Za-z0-9_/:.\-]+)?$|!<[^>\s]+>$")


def _check_written_tag(node: Any, text: str) -> None:
    """Decline a tag written in a form the two scanners may read differently."""
    index, end = node.start_mark.index, len(text)
    while 0 <= index < end and text[index] in "&!":
        start = index
        while index < end and text[index] not in " \t\r\n":
            index += 1
        if text[start] == "!" and not _PLAIN_TAG.match(text, start, index):
            raise Decline(f"the tag {text[start:index]}")
        while index < end and text[index] in " \t\r\n":
            index += 1


def _mark_at_anchor(node: Any, text: str) -> None:
    """`!tag &name value`: libyaml places the node at its tag, ruamel (PyYAML's parser) at the anchor."""
    mark, end = node.start_mark, len(text)
    index = mark.index
    while index < end and text[index] not in " \t\r\n":
        index += 1
    while index < end and text[index] in " \t\r\n":
        index += 1
    if index < end and text[index] == "&":
        line_start = text.rfind("\n", 0, index) + 1
        node.start_mark = _Mark(mark.line + text.count("\n", mark.index, index), index - line_start, index)


def _has_properties(node: Any, text: str) -> bool:
    """An anchor or a tag starts the node (libyaml's mark is at the first property)."""
    index = node.start_mark.index
    return 0 <= index < len(text) and text[index] in "&!"


def _anchored(node: Any, text: str) -> bool:
    """`&name` among the node's properties (`&a !!bool x`, `!!bool &a x`)."""
    index, end = node.start_mark.index, len(text)
    while index < end and text[index] in "&!":
        if text[index] == "&":
            return True
        while index < end and text[index] not in " \t\r\n":
            index += 1
        while index < end and text[index] in " \t\r\n":
            index += 1
    return False


def _ruamel_empty_mark(text: str, mark: Any) -> Any:
    """Where ruamel puts an empty value libyaml put at `mark`: past blanks and line breaks, at the
    next token."""
    index, line, column, end = mark.index, mark.line, mark.column, len(text)
    if index >= end:  # libyaml ends a stream on a fresh line; ruamel where the text ends
        return _Mark(text.count("\n"), end - (text.rfind("\n") + 1))
    while index < end:
        char = text[index]
        if char == "#":
            raise Decline("a comment after an empty value")
        if char == "\n":
            index, line, column = index + 1, line + 1, 0
        elif char in " \t\r":
            index, column = index + 1, column + 1
        elif char in "?:":  # ruamel takes the end of a `?`/`:` token, unless a block ends first
            raise Decline("an explicit key or value after an empty value")
        else:
            break
    return _Mark(line, column)


def _ruamel_flow_empty_mark(text: str, mark: Any) -> Any:
    """Where ruamel puts an empty flow-mapping value libyaml put at `mark` (the next `,` or `}`):
    just after the colon before it (`{k}` has none: there both agree)."""
    index = mark.index - 1
    while index >= 0 and text[index] in " \t\r\n":
        index -= 1
    if index < 0 or text[index] != ":":
        if "\n" in text[index + 1:mark.index]:
            raise Decline("an empty flow value across lines")
        return mark
    index += 1
    start = text.rfind("\n", 0, index) + 1
    return _Mark(text.count("\n", 0, index), index - start)


def construct(root: Any, text: str) -> Any:
    """Plain data from an inspected tree (keys are scalars, depth is bounded, aliases are counted:
    the inspector ran). Each node is built once, so an alias is the same object, as on the
    round-trip road (`to_plain` copies both alike)."""
    return _Builder(text).build(root)


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.built: dict[int, Any] = {}
        self._ruamel: Any = None

    def build(self, node: Any) -> Any:
        key = id(node)
        if key in self.built:
            return self.built[key]
        if node.id == "scalar":
            value = self.scalar(node)
        elif node.id == "sequence":
            if node.tag != SEQ:
                raise Decline(f"explicit tag {node.tag}")  # !!omap, !!set, !!pairs
            value = [self.build(item) for item in node.value]
        else:
            if node.tag != MAP:
                raise Decline(f"explicit tag {node.tag}")
            value = self.mapping(node)
        self.built[key] = value
        return value

    def mapping(self, node: Any) -> dict[Any, Any]:
        """ruamel's round-trip mapping: the first of duplicate keys wins (AHSD002 says so); a merge
        (`<<: *base`, `<<: [*a, *b]`) then adds each merged mapping's keys not already present, in
        order, the earlier mapping first (ruamel's CommentedMap.add_yaml_merge)."""
        out: dict[Any, Any] = {}
        merged: list[dict[Any, Any]] | None = None
        for key_node, value_node in node.value:
            if key_node.tag == _P + "merge":
                if merged is not None:
                    raise Decline("a second merge key")  # ruamel refuses it while building
                merged = self.merges(value_node)
                continue
            if key_node.tag == STR and type(key_node.tag) is not Tag:
                raise Decline("a key tagged !!str")  # ruamel's TaggedScalar key: each one a new key
            key = self.build(key_node)
            value = self.build(value_node)
            out.setdefault(key, value)
        for source in merged or ():
            for key, value in source.items():
                if key not in out:
                    out[key] = value
        return out

    def merges(self, node: Any) -> list[dict[Any, Any]]:
        if node.id == "mapping":
            return [self.build(node)]
        if node.id == "sequence" and all(item.id == "mapping" for item in node.value):
            self.build(node)  # ruamel builds the list too (its items are the same objects)
            return [self.build(item) for item in node.value]
        raise Decline("a merge of something other than mappings")  # ruamel refuses it while building

    def scalar(self, node: Any) -> Any:
        tag, value = node.tag, node.value
        if type(tag) is not Tag:
            return self.ruamel_scalar(node)
        if tag is STR:
            return value
        if tag == _P + "int":
            return _int(value)
        if tag == _P + "float":
            return _float(value)
        if tag == _P + "bool":
            truth = value.lower() == "true"
            # ruamel keeps an anchored bool as ScalarBoolean, an int: plain, it is 1 or 0
            return int(truth) if _has_properties(node, self.text) and _anchored(node, self.text) else truth
        if tag == _P + "null":
            return None
        if tag == _P + "timestamp":
            return self.ruamel_scalar(node)
        raise Decline(tag)  # merge (as a value), value, yaml

    def ruamel_scalar(self, node: Any) -> Any:
        """An explicitly tagged scalar or a timestamp, built by ruamel's round-trip constructor
        itself (imported only for such a file), then made plain as `loader.to_plain` does."""
        if self._ruamel is None:
            from ruamel.yaml import YAML
            from ruamel.yaml.nodes import ScalarNode as RuamelScalar

            self._ruamel = (YAML(typ="rt").constructor, RuamelScalar)
        constructor, make = self._ruamel
        anchor = "a" if _has_properties(node, self.text) and _anchored(node, self.text) else None
        try:
            value = constructor.construct_object(make(str(node.tag), node.value, style=node.style or None,
                                                      anchor=anchor), deep=True)
        except Exception as exc:  # noqa: BLE001 - a bad timestamp, `!!int x`: that road's refusal
            raise Decline(f"cannot build {node.tag}") from exc
        return plain_scalar(value)


def plain_scalar(value: Any) -> Any:
    """A scalar made plain (ruamel's str/int/float subclasses dropped): the one rule, `loader.to_plain` uses it too."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if type(value).__name__ == "TaggedScalar":  # `!!str 5`: the only tagged scalar the inspector lets in
        return str(value.value)
    return value  # a date, a datetime or ruamel's TimeStamp, as the round-trip road leaves it


def _int(text: str) -> int:
    """ruamel's round-trip construct_yaml_int under YAML 1.2, made plain."""
    digits = text.replace("_", "")
    sign = -1 if digits[0] == "-" else 1
    if digits[0] in "+-":
        digits = digits[1:]
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits)


def _float(text: str) -> float:
    """ruamel's round-trip construct_yaml_float under YAML 1.2, made plain."""
    digits = text.replace("_", "").lower()
    sign = -1 if digits[0] == "-" else 1
    if digits[0] in "+-":
        digits = digits[1:]
    if digits == ".inf":
        return sign * _INF
    if digits == ".nan":
        return _INF - _INF  # ruamel's nan_value
    return sign * float(digits)
