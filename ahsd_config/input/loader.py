"""Safe YAML loading with positions: the single entry point for every file `ahsd_config` reads.

Bad input never becomes a traceback: every failure is an `InputError` naming file:line:col.
The loader composes the node tree first and inspects it *before* anything is constructed:

- only standard tags are accepted (`!!python/object/apply` and friends are refused, never built);
- alias expansion is bounded (a "billion laughs" document is refused by counting, not by building);
- nesting depth is bounded;
- integers with absurd digit counts are refused before Python tries to convert them;
- duplicate keys are *recorded* (with both positions) so the rules can report them as AHSD002,
  instead of being silently resolved the way PyYAML does (last one wins).

Positions are 1-based (editors, SARIF and GitHub annotations count that way).

Two roads read the text, with one inspector and one set of refusals:

- the C road (`_load_c`: libyaml through PyYAML's C parser, a resolver copied from ruamel's YAML 1.2
  table, plain Python data; `yaml_c.py`) reads every ordinary config; it composes ~10x faster than
  ruamel's pure-Python scanner, which was 85 % of validation time (issue 9: 1 s per MB);
- the round-trip road (`_load_roundtrip`: ruamel, comments and spelling kept in `doc.data`) serves
  the writers (`load_text(..., roundtrip=True)`: migrate edits that data; revision files keep their
  spelling) and every file the C road cannot answer exactly as it would: the C road *declines*
  (tabs, directives, reused anchors, ...: the list and the reasons are in `yaml_c.py`), and the
  round-trip road then gives the document, or the refusal with its own message and position.

Refusals are worded as the round-trip road words them, on either road: the C road's tree is the
round-trip road's, so the inspector refuses the same node with the same words; a forbidden
character is found with ruamel's own pattern; a syntax error libyaml finds is handed to ruamel's
parser from the line of the last key of the innermost open block before it (`_c_syntax_refusal`),
not from the top of the file. tests/test_loader_roads.py checks that both roads agree on every
corpus config and on generated and mutated YAML (documents, refusals, declines).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gc
import io
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple, Union

from ahsd_config.errors import InputError
from ahsd_config.values import float_text  # noqa: F401  (re-exported: the one float spelling)

if TYPE_CHECKING:
    from ruamel.yaml import YAML

# A node of either road (ruamel's or PyYAML's): both have .id ('scalar' | 'sequence' | 'mapping'),
# .tag, .value, .style and .start_mark (.line, .column, 0-based).
Node = Any

KeyPath = tuple[Union[str, int], ...]

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000
MAX_INT_DIGITS = 1_000
MAX_INT = 2**63 - 1  # the largest integer a config may hold: torch's and numpy's int64

_SURROGATE = re.compile("[\ud800-\udfff]")
_STANDARD_TAGS = frozenset(
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp")
)


@dataclass(frozen=True)
class DuplicateKey:
    path: KeyPath
    line: int
    column: int
    first_line: int


class ScalarInfo(NamedTuple):
    """One scalar value as written: what YAML 1.1 readers might take differently is judged from it.
    (A NamedTuple: a large file has one per value, and a frozen dataclass costs 5x more to make.)"""

    path: KeyPath
    text: str
    style: str | None  # None = plain (unquoted); "'" / '"' quoted; "|" / ">" block
    tag: str
    line: int
    column: int


@dataclass
class YamlDocument:
    """A loaded config: plain data for the schema, the node tree and positions for diagnostics."""

    path: str
    text: str
    data: Any  # plain dict (C road), or ruamel's CommentedMap when loaded with roundtrip=True
    root: Node
    duplicates: list[DuplicateKey] = field(default_factory=list)
    _key_pos: dict[KeyPath, tuple[int, int]] = field(default_factory=dict, repr=False)
    _scalars: list[ScalarInfo] = field(default_factory=list, repr=False)

    def position(self, path: KeyPath) -> tuple[int, int]:
        """(line, column) of the key at `path`, or of its nearest existing ancestor."""
        path = tuple(path)
        while path:
            if path in self._key_pos:
                return self._key_pos[path]
            path = path[:-1]
        return (1, 1)

    def has_key(self, path: KeyPath) -> bool:
        return tuple(path) in self._key_pos

    def scalars(self) -> Iterator[ScalarInfo]:
        return iter(self._scalars)

    def line_text(self, line: int) -> str:
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    @cached_property
    def lines(self) -> list[str]:
        """The text's lines, split once (findings ask for their line thousands of times)."""
        return self.text.splitlines()

    @cached_property
    def key_at_line(self) -> dict[int, KeyPath]:
        """line -> the first key written on it."""
        out: dict[int, KeyPath] = {}
        for path, (line, _) in self._key_pos.items():
            if path and not isinstance(path[-1], int):
                out.setdefault(line, path)
        return out

    def plain(self) -> Any:
        """The data as plain dicts/lists/scalars (what pydantic validates)."""
        return to_plain(self.data)


def format_key(path: KeyPath) -> str:
    """('priority_net', 'hidden_dims', 0) -> 'priority_net.hidden_dims[0]'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_key(dotted: str) -> KeyPath:
    """'priority_net.hidden_dims[0]' -> ('priority_net', 'hidden_dims', 0)."""
    parts: list[str | int] = []
    for chunk in dotted.split("."):
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            if not index.strip().isdigit():
                from ahsd_config.errors import UsageError

                raise UsageError(f"`{dotted}`: [{index}] is not a list index (write a whole number, e.g. [0])")
            parts.append(int(index))
            rest = rest.lstrip("[")
    return tuple(parts)


def to_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    from collections.abc import Set

    if isinstance(value, Set) and not isinstance(value, (set, frozenset)):  # `!!set {a, b}`: ruamel's CommentedSet
        return {to_plain(v) for v in value}
    from ahsd_config.input.yaml_c import plain_scalar

    return plain_scalar(value)  # the one scalar rule, shared with the C road (drops ruamel's subclasses)


def _represent_float(representer: Any, value: float) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:float", float_text(value))


@functools.lru_cache(maxsize=None)
def _representer() -> type:
    """Plain floats (computed values: migrated, shown, squashed, resolved) in the spelling of
    `float_text`; floats read from a file (ScalarFloat) keep the file's own spelling. Built on
    first use: ruamel costs ~15 ms to import, and validating on the C road never needs it."""
    from ruamel.yaml.representer import RoundTripRepresenter

    representer = type("_Representer", (RoundTripRepresenter,), {})
    representer.add_representer(float, _represent_float)
    return representer


def make_yaml() -> "YAML":
    """The round-trip YAML object every reader and writer in the package uses."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.Representer = _representer()
    yaml.allow_duplicate_keys = True  # duplicates are found on the node tree and reported as AHSD002
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the user's long comments or flow lists
    return yaml


def read_text(path: str | Path) -> str:
    """Read a file as UTF-8, turning every way that can fail into an InputError.

    Only regular files of at most MAX_BYTES are read (checked before reading: never /dev/zero,
    a FIFO or a device), through the project's one bounded reader."""
    from ahsd_config.input.files import TooLarge, missing_file, read_bounded

    try:
        raw = read_bounded(path, MAX_BYTES)
    except FileNotFoundError:
        raise InputError(path, missing_file(path) or f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(path, f"{path} is a directory, not a YAML file") from None
    except TooLarge as exc:
        raise InputError(path, f"file is {exc.size} bytes or more; configs larger than {MAX_BYTES} bytes are refused") from None
    except OSError as exc:
        raise InputError(path, f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(path, f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded", line, column) from None


def load_file(path: str | Path, *, roundtrip: bool = False) -> YamlDocument:
    return load_text(read_text(path), str(path), roundtrip=roundtrip)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cycle collection while a document is built or judged. Both make tens of thousands of
    objects that live on (nodes, positions, findings), and each 700 new objects start a pass over
    them: in a 0.5 MB file that was more than half the loading time. The trees are acyclic; what
    cyclic garbage there is waits for the next pass after the block."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_text(text: str, path: str = "<string>", *, roundtrip: bool = False) -> YamlDocument:
    """Parse `text` safely into a YamlDocument (see the module docstring for what is refused).

    `roundtrip=True` keeps ruamel's comment-carrying data in `doc.data` for a writer to edit; the
    default gives plain data, on the C road where it can answer exactly as the round-trip road."""
    with paused_gc(), warnings.catch_warnings():
        # ruamel warns, as a paragraph on stderr, about YAML that is legal (an anchor defined twice:
        # the later definition wins, as YAML 1.2 says); users are promised one line or nothing
        warnings.simplefilter("ignore")
        return _load(text, path, roundtrip)


def _load(text: str, path: str, roundtrip: bool) -> YamlDocument:
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputError(path, "empty file: expected a mapping of config sections (priority_net: ..., data: ...)")
    if not roundtrip:
        doc = _load_c(text, path)
        if doc is not None:
            return doc
    return _load_roundtrip(text, path)


def _check_root(root: Node | None, path: str) -> None:
    if root is None:
        raise InputError(path, "the document holds no data: expected a mapping of config sections")
    if root.id != "mapping":
        line, col = _mark(root)
        raise InputError(path, f"the top level must be a mapping of sections, found a {_kind(root)}", line, col)


def _load_roundtrip(text: str, path: str) -> YamlDocument:
    yaml = make_yaml()
    root = _compose(yaml, text, path)
    _check_root(root, path)
    doc = YamlDocument(path=path, text=text, data=None, root=root)
    _Inspector(doc).run()
    try:
        doc.data = yaml.constructor.construct_document(root)
    except Exception as exc:  # noqa: BLE001 - YAMLError, a bad timestamp, or a ruamel defect: one line
        line, col = _error_mark(exc) if _has_mark(exc) else _first_timestamp(doc)
        raise InputError(path, f"cannot build the document: {_one_line(exc)}", line, col) from None
    return doc


def _compose(yaml: "YAML", text: str, path: str) -> Node | None:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    _refuse_deep(text, path)
    try:
        return yaml.compose(io.StringIO(text))
    except ReaderError as exc:  # unmarked: ruamel gives a character offset ("position 20905")
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        raise _unprintable_refusal(text, path, exc.position, code) from None
    except MarkedYAMLError as exc:
        raise _marked_refusal(exc, text, path) from None
    except YAMLError as exc:
        raise InputError(path, f"malformed YAML: {_one_line(exc)}") from None
    except RecursionError:
        line, col = _deep_position(text)
        raise InputError(path, f"nesting is deeper than {MAX_DEPTH} levels; refusing to parse", line, col) from None
    except Exception as exc:  # noqa: BLE001 - a ruamel defect (e.g. "overlap in comment") is still one line
        raise InputError(path, f"the round-trip YAML reader (ruamel.yaml) fails on this file's layout: "
                               f"{type(exc).__name__}: {_one_line(exc)}") from None


def _refuse_deep(text: str, path: str) -> None:
    """The nesting refusal, from libyaml's events, before ruamel reads a file nested past MAX_DEPTH
    (its scanner is quadratic in flow depth: 2,000 unclosed `[` took 11 s). A forbidden character
    is ruamel's first answer, so it stays first."""
    from ahsd_config.input import yaml_c
    from ruamel.yaml.reader import Reader

    if not yaml_c.AVAILABLE or Reader.NON_PRINTABLE.search(text) is not None:
        return
    at = yaml_c.nesting_past(text, MAX_DEPTH)
    if at is not None:
        raise InputError(path, f"nesting is deeper than {MAX_DEPTH} levels", *at)


def _unprintable_refusal(text: str, path: str, offset: int, code: int) -> InputError:
    line, col = _offset_position(text, offset)
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return InputError(path, f"malformed YAML: character U+{code:04X} is not allowed in a YAML file "
                            f'(inside double quotes, write it as "{escape}")', line, col)


def _marked_refusal(exc: Any, text: str, path: str, line_offset: int = 0) -> InputError:
    """ruamel's syntax error in one line; `line_offset` when it parsed only the text from that line."""
    line, col = _error_mark(exc)
    problem = exc.problem or exc.context or "malformed YAML"
    if "\t" in text and "\\t" in problem:
        problem += " (YAML forbids tabs for indentation; use spaces)"
    return InputError(path, f"malformed YAML: {problem}", line + line_offset, col)


def _load_c(text: str, path: str) -> YamlDocument | None:
    """The C road; None when it declines (the round-trip road then answers). A refusal is answered
    here when this road can word it as the round-trip road would: the inspector's refusals (the
    same tree, the same inspector; a file deeper than MAX_DEPTH excepted: ruamel's own recursion
    limit may answer first), a forbidden character, and a syntax error (`_c_syntax_refusal`)."""
    from ahsd_config.input import yaml_c

    if not yaml_c.AVAILABLE or yaml_c.unusual_text(text):
        return None
    try:
        root = yaml_c.compose(text)
    except yaml_c.Decline:
        return None
    except Exception as exc:  # noqa: BLE001 - libyaml's error: worded as ruamel words it, or declined
        refusal = _c_syntax_refusal(text, path, exc)
        if refusal is None:
            return None
        raise refusal from None
    _check_root(root, path)
    doc = YamlDocument(path=path, text=text, data=None, root=root)
    try:
        _Inspector(doc).run()
    except InputError as exc:
        if exc.message.startswith(f"nesting is deeper than {MAX_DEPTH}"):
            return None
        raise
    try:
        doc.data = yaml_c.construct(root, text)
    except Exception:  # noqa: BLE001 - Decline, or a value ruamel too fails to build (`._`): its words
        return None
    return doc


def _c_syntax_refusal(text: str, path: str, exc: BaseException) -> InputError | None:
    """The round-trip road's refusal of a text libyaml cannot parse, without ruamel reading it all.

    ruamel checks every character before it parses: a forbidden one is found here by its own
    pattern. Otherwise ruamel parses only from the line of the last key before the error, at the
    key's indentation, as a document of its own (`_window_starts`): up to the first later line
    indented less, ruamel's scanner and parser see the same tokens there as in the whole file, so
    an error it finds before that line (with two lines of lookahead to spare) is the whole file's
    error; past it, the next enclosing block is tried (the top level has no such line). Anything
    else (ruamel takes the window): None, the whole file is read."""
    from ruamel.yaml.reader import Reader

    bad = Reader.NON_PRINTABLE.search(text)
    if bad is not None:
        return _unprintable_refusal(text, path, bad.start(), ord(bad.group()))
    _refuse_deep(text, path)  # before ruamel reads any window: its scanner is quadratic in flow depth
    if getattr(exc, "problem_mark", None) is None:
        return None
    budget = len(text) + 65536  # past about one whole read, the round-trip road is as cheap
    starts, anchors = _window_starts(text)
    for index, first_line, indent in starts:
        if budget <= 0:
            return None
        error = _ruamel_parse_error(text[index:], {name for at, name in anchors if at < index})
        if error is None or error.problem_mark is None:
            return None  # ruamel takes the rest: it may refuse something earlier, or nothing
        budget -= error.problem_mark.index  # what ruamel read of the window
        line = error.problem_mark.line + first_line
        dedent = _first_dedent(text, index, indent)
        if dedent is None or _content_lines_between(text, line, dedent) >= 2:
            return _marked_refusal(error, text, path, line_offset=first_line)
    return None  # the error lies past every open block's end (as ruamel reads it)


def _ruamel_parse_error(text: str, anchors: set[str]) -> Any:
    """ruamel's (round-trip) parser over `text`, with its composer's two checks on the way (an alias
    to no anchor, given those defined before `text`; a second document), which the whole file's
    reading would meet first: the error, or None when ruamel reads it all."""
    from types import SimpleNamespace

    from ruamel.yaml.error import MarkedYAMLError
    from ruamel.yaml.events import AliasEvent, DocumentStartEvent

    documents = 0
    try:
        for event in make_yaml().parse(io.StringIO(text)):
            anchor = getattr(event, "anchor", None)
            if isinstance(event, AliasEvent):
                if anchor not in anchors:
                    return SimpleNamespace(problem=f"found undefined alias {anchor!r}", context=None,
                                           problem_mark=event.start_mark)
            elif anchor is not None:
                anchors.add(anchor)
            elif isinstance(event, DocumentStartEvent):
                documents += 1
                if documents == 2:
                    return SimpleNamespace(problem="but found another document", context=None,
                                           problem_mark=event.start_mark)
    except MarkedYAMLError as exc:
        return exc
    except Exception:  # noqa: BLE001 - ruamel's own defects: the whole file decides
        return None
    return None


def _window_starts(text: str) -> tuple[list[tuple[int, int, int]], list[tuple[int, str]]]:
    """(index of the line start, 0-based line, column) of the last key written first on its line
    of each block mapping still open where libyaml fails, innermost first: from there to that
    mapping's end, the text reads the same as a document of its own. And each anchor libyaml read,
    with where."""
    from ahsd_config.input import yaml_c

    parser = yaml_c.CParser(text)
    stack: list[list[Any]] = []  # [block mapping?, children so far, last key (index, line, column)]
    anchors: list[tuple[int, str]] = []
    try:
        while True:
            event = parser.get_event()
            kind = type(event).__name__
            if kind != "AliasEvent" and getattr(event, "anchor", None) is not None:
                anchors.append((event.start_mark.index, event.anchor))
            if kind in ("ScalarEvent", "AliasEvent", "SequenceStartEvent", "MappingStartEvent") and stack:
                top = stack[-1]
                if top[0] and top[1] % 2 == 0:
                    mark = event.start_mark
                    line_start = text.rfind("\n", 0, mark.index) + 1
                    if not text[line_start:mark.index].strip(" "):
                        top[2] = (line_start, mark.line, mark.column)
            if kind in ("ScalarEvent", "AliasEvent") and stack:
                stack[-1][1] += 1
            elif kind in ("SequenceStartEvent", "MappingStartEvent"):
                stack.append([kind == "MappingStartEvent" and not event.flow_style, 0, None])
            elif kind in ("SequenceEndEvent", "MappingEndEvent"):
                stack.pop()
                if stack:
                    stack[-1][1] += 1
    except Exception:  # noqa: BLE001 - the error the caller knows
        pass
    finally:
        parser.dispose()
    return [key for _, _, key in reversed(stack) if key is not None], anchors


def _first_dedent(text: str, index: int, indent: int) -> int | None:
    """0-based line of the first line after the one at `index` that holds something (not a
    comment) indented less than `indent`: where a block at that indentation must have ended."""
    line = text.count("\n", 0, index)
    for number, content in enumerate(text[index:].split("\n")[1:], start=line + 1):
        stripped = content.lstrip(" ")
        if stripped and not stripped.startswith("#") and len(content) - len(stripped) < indent:
            return number
    return None


def _content_lines_between(text: str, first: int, last: int) -> int:
    """Lines strictly between 0-based lines `first` and `last` that hold something not a comment."""
    lines = text.split("\n")[first + 1:last]
    return sum(1 for content in lines if content.strip() and not content.strip().startswith("#"))


class _Inspector:
    """Walk the node tree once: tags, depth, alias expansion, duplicates, positions, scalars."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.sizes: dict[int, int] = {}
        self.expanded = 0
        self.aliased = False  # the cap's message names aliases only when one was expanded

    def run(self) -> None:
        self.walk(self.doc.root, (), 0, set())

    def walk(self, node: Node, path: KeyPath, depth: int, active: set[int]) -> int:
        if depth > MAX_DEPTH:
            self.fail(node, f"nesting is deeper than {MAX_DEPTH} levels")
        self.check_tag(node)
        if id(node) in active:
            self.fail(node, "recursive alias: a node contains itself")
        if id(node) in self.sizes:  # an alias to a node seen before: count its expansion, do not re-walk
            self.aliased = True
            self.count(node, self.sizes[id(node)])
            return self.sizes[id(node)]
        active.add(id(node))
        size = 1 + self.walk_children(node, path, depth, active)
        active.discard(id(node))
        self.sizes[id(node)] = size
        self.count(node, 1)
        return size

    def walk_value(self, node: Node, path: KeyPath, depth: int, active: set[int]) -> int:
        """`walk`, with its steps for a scalar seen the first time (most nodes) written out: the same
        checks in the same order, without the bookkeeping a collection needs (large files)."""
        if node.id != "scalar" or id(node) in self.sizes:
            return self.walk(node, path, depth, active)
        if depth > MAX_DEPTH:
            self.fail(node, f"nesting is deeper than {MAX_DEPTH} levels")
        if node.tag not in _STANDARD_TAGS:
            self.check_tag(node)
        self.check_scalar(node, path)
        self.sizes[id(node)] = 1
        self.count(node, 1)
        return 1

    def check_tag(self, node: Node) -> None:
        if node.tag not in _STANDARD_TAGS and not (
            node.id != "scalar" and node.tag.startswith("tag:yaml.org,2002:")
            and node.tag.rsplit(":", 1)[-1] in ("omap", "set")
        ):
            self.fail(node, f"tag {node.tag!r} is not allowed in a config; it was not constructed")

    def check_key(self, node: Node, path: KeyPath) -> Any:
        """A mapping key gets the same refusals as a value, and must be a scalar: a list or mapping
        as a key (`? [a, b]`) is never a config key, and stringifying one can take exponential time."""
        self.check_tag(node)
        if node.id != "scalar":
            self.fail(node, f"a key must be a plain name, found a {_kind(node)} (`? ...` complex keys are not allowed)")
        self.check_text(node)
        self.count(node, 1)
        self.check_int(node, "integer key")
        return _key_value(node)

    def walk_children(self, node: Node, path: KeyPath, depth: int, active: set[int]) -> int:
        total = 0
        if node.id == "mapping":
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = self.check_key(key_node, path)
                line, col = _mark(key_node)
                child = path + (key,)
                if key in seen and key_node.tag != "tag:yaml.org,2002:merge":
                    self.doc.duplicates.append(DuplicateKey(child, line, col, seen[key]))
                else:
                    seen[key] = line
                    self.doc._key_pos.setdefault(child, (line, col))
                total += self.walk_value(value_node, child, depth + 1, active)
        elif node.id == "sequence":
            for index, item in enumerate(node.value):
                self.doc._key_pos.setdefault(path + (index,), _mark(item))
                total += self.walk_value(item, path + (index,), depth + 1, active)
        else:
            self.check_scalar(node, path)
        return total

    def check_text(self, node: Node) -> None:
        """A `"\\ud800"` escape decodes to half a surrogate pair: no UTF-8 output (a report, a
        migrated file, a terminal) can hold it, so it is refused here, once, for every consumer."""
        if _SURROGATE.search(node.value):
            bad = _SURROGATE.search(node.value).group()
            self.fail(node, f"the text holds {bad.encode('unicode_escape').decode()}, half of a UTF-16 "
                            "surrogate pair, which no UTF-8 file or terminal can hold; write the character itself")

    def check_int(self, node: Node, what: str) -> None:
        """An integer Python can build: not absurdly long, and with digits (`-_` and `0x_` are
        integers to YAML 1.2's pattern but have none; ruamel failed on them with a traceback)."""
        if not node.tag.endswith(":int"):
            return
        digits = node.value.lstrip("+-").replace("_", "")
        if len(digits) > MAX_INT_DIGITS:
            self.fail(node, f"{what} with {len(digits)} digits; numbers this large are refused")
        body, base = (digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1]]) if digits[:2] in ("0x", "0o", "0b") else (digits, 10)
        if not body:
            self.fail(node, f"`{node.value}` is an integer to YAML 1.2 but has no digits; quote it if it is text")
        try:
            magnitude = int(body, base)
        except ValueError:  # not this road's integer spelling: the constructor answers
            return
        if magnitude > MAX_INT:
            # every consumer holds integers in 64 bits (torch, numpy) or converts them to float, which
            # overflows past 1.8e308: a rule's `batch * 10 / fraction` raised OverflowError
            self.fail(node, f"{what} with {len(body)} digits is beyond the 64-bit range "
                            f"(|n| <= {MAX_INT}) that torch and numpy hold; numbers this large are refused")

    def check_scalar(self, node: Node, path: KeyPath) -> None:
        self.check_text(node)
        self.check_int(node, "integer")
        line, col = _mark(node)
        # PyYAML's C parser says '' for a plain scalar, ruamel None: one spelling here.
        text = node.value
        if node.style == ">":  # ruamel's round-trip scanner marks each fold with "\a": not the text's
            text = text.replace("\a", "")
        self.doc._scalars.append(ScalarInfo(path, text, node.style or None, str(node.tag), line, col))

    def count(self, node: Node, n: int) -> None:
        self.expanded += n
        if self.expanded > MAX_EXPANDED_NODES:
            if self.aliased:
                self.fail(node, f"aliases expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?); refusing to build it")
            self.fail(node, f"more than {MAX_EXPANDED_NODES} nodes (keys, values and list items), the loader's "
                            f"cap for a config; refusing to build it")

    def fail(self, node: Node, message: str) -> None:
        line, col = _mark(node)
        raise InputError(self.doc.path, message, line, col)


def _key_value(node: Node) -> Any:
    """Keys as the constructor will build them: `0:` in per_param_tail_bounds is the int 0."""
    if node.tag.endswith(":int"):
        try:
            return int(node.value.replace("_", ""), 0) if node.value.lower().startswith(("0x", "0o")) else int(node.value.replace("_", ""))
        except ValueError:
            return node.value
    if node.tag.endswith(":bool"):
        return node.value.lower() == "true"
    if node.tag.endswith(":null"):
        return None
    return node.value


def _mark(node: Node) -> tuple[int, int]:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _error_mark(exc: BaseException) -> tuple[int, int]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return (1, 1)
    return (mark.line + 1, mark.column + 1)


def _has_mark(exc: BaseException) -> bool:
    return getattr(exc, "problem_mark", None) is not None or getattr(exc, "context_mark", None) is not None


def _first_timestamp(doc: YamlDocument) -> tuple[int, int]:
    """Where an unmarked construction error most likely is: the only scalars whose construction
    can fail after the inspection are timestamps (`2025-13-45` resolves as one, then fails)."""
    stamps = [s for s in doc.scalars() if s.tag.endswith(":timestamp")]
    for scalar in stamps:
        try:
            year, month, day = (int(part) for part in scalar.text[:10].split("-"))
            datetime.date(year, month, day)
        except ValueError:
            return (scalar.line, scalar.column)
    return (stamps[0].line, stamps[0].column) if stamps else (1, 1)


def _kind(node: Node) -> str:
    if node.id == "sequence":
        return "list"
    if node.id == "mapping":
        return "mapping"
    if node.id != "scalar":
        return "node"
    value = node.value.replace("\a", "") if node.style == ">" else node.value  # ruamel's fold marks
    return f"scalar ({value!r:.40})"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset into `text`."""
    offset = max(0, min(offset, len(text)))
    return (text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _deep_position(text: str) -> tuple[int, int]:
    """Where flow nesting first exceeds MAX_DEPTH (best effort: quotes are not tracked)."""
    depth, line, col = 0, 1, 0
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return (line, col)
        elif ch in "]}":
            depth -= 1
    return (1, 1)
