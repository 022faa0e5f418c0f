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
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Union

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.representer import RoundTripRepresenter

from ahsd_config.errors import InputError
from ahsd_config.values import float_text  # noqa: F401  (re-exported: the one float spelling)

KeyPath = tuple[Union[str, int], ...]

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000
MAX_INT_DIGITS = 1_000

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


@dataclass(frozen=True)
class ScalarInfo:
    """One scalar value as written: what YAML 1.1 readers might take differently is judged from it."""

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
    data: Any  # ruamel CommentedMap (round-trip types; behaves as a dict)
    root: MappingNode
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
    if isinstance(value, str):
        return str(value)  # drop ruamel's quoted-string subclasses
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _represent_float(representer: Any, value: float) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:float", float_text(value))


class _Representer(RoundTripRepresenter):
    """Plain floats (computed values: migrated, shown, squashed, resolved) in the spelling of
    `float_text`; floats read from a file (ScalarFloat) keep the file's own spelling."""


_Representer.add_representer(float, _represent_float)


def make_yaml() -> YAML:
    """The round-trip YAML object every reader and writer in the package uses."""
    yaml = YAML(typ="rt")
    yaml.Representer = _Representer
    yaml.allow_duplicate_keys = True  # duplicates are found on the node tree and reported as AHSD002
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the user's long comments or flow lists
    return yaml


def read_text(path: str | Path) -> str:
    """Read a file as UTF-8, turning every way that can fail into an InputError.

    Only regular files of at most MAX_BYTES are read (checked before reading: never /dev/zero,
    a FIFO or a device), through the project's one bounded reader."""
    from ahsd_config.input.files import TooLarge, read_bounded

    try:
        raw = read_bounded(path, MAX_BYTES)
    except FileNotFoundError:
        raise InputError(path, f"no such file: {path}") from None
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


def load_file(path: str | Path) -> YamlDocument:
    return load_text(read_text(path), str(path))


def load_text(text: str, path: str = "<string>") -> YamlDocument:
    """Parse `text` safely into a YamlDocument (see the module docstring for what is refused)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputError(path, "empty file: expected a mapping of config sections (priority_net: ..., data: ...)")
    yaml = make_yaml()
    root = _compose(yaml, text, path)
    if root is None:
        raise InputError(path, "the document holds no data: expected a mapping of config sections")
    if not isinstance(root, MappingNode):
        line, col = _mark(root)
        raise InputError(path, f"the top level must be a mapping of sections, found a {_kind(root)}", line, col)
    doc = YamlDocument(path=path, text=text, data=None, root=root)
    _Inspector(doc).run()
    try:
        doc.data = yaml.constructor.construct_document(root)
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        line, col = _error_mark(exc) if _has_mark(exc) else _first_timestamp(doc)
        raise InputError(path, f"cannot build the document: {_one_line(exc)}", line, col) from None
    return doc


def _compose(yaml: YAML, text: str, path: str) -> Node | None:
    try:
        return yaml.compose(io.StringIO(text))
    except MarkedYAMLError as exc:
        line, col = _error_mark(exc)
        problem = exc.problem or exc.context or "malformed YAML"
        if "\t" in text and "\\t" in problem:
            problem += " (YAML forbids tabs for indentation; use spaces)"
        raise InputError(path, f"malformed YAML: {problem}", line, col) from None
    except YAMLError as exc:
        raise InputError(path, f"malformed YAML: {_one_line(exc)}") from None
    except RecursionError:
        line, col = _deep_position(text)
        raise InputError(path, f"nesting is deeper than {MAX_DEPTH} levels; refusing to parse", line, col) from None


class _Inspector:
    """Walk the node tree once: tags, depth, alias expansion, duplicates, positions, scalars."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.sizes: dict[int, int] = {}
        self.expanded = 0

    def run(self) -> None:
        self.walk(self.doc.root, (), 0, set())

    def walk(self, node: Node, path: KeyPath, depth: int, active: set[int]) -> int:
        if depth > MAX_DEPTH:
            self.fail(node, f"nesting is deeper than {MAX_DEPTH} levels")
        self.check_tag(node)
        if id(node) in active:
            self.fail(node, "recursive alias: a node contains itself")
        if id(node) in self.sizes:  # an alias to a node seen before: count its expansion, do not re-walk
            self.count(node, self.sizes[id(node)])
            return self.sizes[id(node)]
        active.add(id(node))
        size = 1 + self.walk_children(node, path, depth, active)
        active.discard(id(node))
        self.sizes[id(node)] = size
        self.count(node, 1)
        return size

    def check_tag(self, node: Node) -> None:
        if node.tag not in _STANDARD_TAGS and not (
            isinstance(node, (MappingNode, SequenceNode)) and node.tag.startswith("tag:yaml.org,2002:")
            and node.tag.rsplit(":", 1)[-1] in ("omap", "set")
        ):
            self.fail(node, f"tag {node.tag!r} is not allowed in a config; it was not constructed")

    def check_key(self, node: Node, path: KeyPath) -> Any:
        """A mapping key gets the same refusals as a value, and must be a scalar: a list or mapping
        as a key (`? [a, b]`) is never a config key, and stringifying one can take exponential time."""
        self.check_tag(node)
        if not isinstance(node, ScalarNode):
            self.fail(node, f"a key must be a plain name, found a {_kind(node)} (`? ...` complex keys are not allowed)")
        self.check_text(node)
        self.count(node, 1)
        digits = node.value.lstrip("+-").replace("_", "")
        if node.tag.endswith(":int") and len(digits) > MAX_INT_DIGITS:
            self.fail(node, f"integer key with {len(digits)} digits; numbers this large are refused")
        return _key_value(node)

    def walk_children(self, node: Node, path: KeyPath, depth: int, active: set[int]) -> int:
        total = 0
        if isinstance(node, MappingNode):
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
                total += self.walk(value_node, child, depth + 1, active)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.doc._key_pos.setdefault(path + (index,), _mark(item))
                total += self.walk(item, path + (index,), depth + 1, active)
        elif isinstance(node, ScalarNode):
            self.check_scalar(node, path)
        return total

    def check_text(self, node: ScalarNode) -> None:
        """A `"\\ud800"` escape decodes to half a surrogate pair: no UTF-8 output (a report, a
        migrated file, a terminal) can hold it, so it is refused here, once, for every consumer."""
        if _SURROGATE.search(node.value):
            bad = _SURROGATE.search(node.value).group()
            self.fail(node, f"the text holds {bad.encode('unicode_escape').decode()}, half of a UTF-16 "
                            "surrogate pair, which no UTF-8 file or terminal can hold; write the character itself")

    def check_scalar(self, node: ScalarNode, path: KeyPath) -> None:
        self.check_text(node)
        digits = node.value.lstrip("+-").replace("_", "")
        if node.tag.endswith(":int") and len(digits) > MAX_INT_DIGITS:
            self.fail(node, f"integer with {len(digits)} digits; numbers this large are refused")
        line, col = _mark(node)
        self.doc._scalars.append(ScalarInfo(path, node.value, node.style, node.tag, line, col))

    def count(self, node: Node, n: int) -> None:
        self.expanded += n
        if self.expanded > MAX_EXPANDED_NODES:
            self.fail(node, f"aliases expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?); refusing to build it")

    def fail(self, node: Node, message: str) -> None:
        line, col = _mark(node)
        raise InputError(self.doc.path, message, line, col)


def _key_value(node: ScalarNode) -> Any:
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
    if isinstance(node, SequenceNode):
        return "list"
    if isinstance(node, MappingNode):
        return "mapping"
    return f"scalar ({node.value!r:.40})" if isinstance(node, ScalarNode) else "node"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


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
