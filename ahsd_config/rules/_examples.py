"""Merge a rule's `bad`/`good` YAML fragment into a full config *as text*.

Text, not data: the examples must be able to show what only text has — a duplicate key, a plain
`5e-3`, a suppression comment. A fragment leaf replaces the base's line for that key (keeping the
base's indentation), or is inserted after the previous fragment line of the same section; a leaf
written `key: <delete>` removes the key's line. Fragments use two-space indentation and flow
collections only. Used by the example tests and by tests that build variants of corpus files.
"""

from __future__ import annotations

from ahsd_config.input.loader import KeyPath, YamlDocument, load_text

DELETE = "<delete>"


def parse_fragment(fragment: str) -> list[tuple[KeyPath, str | None]]:
    """[(key path, stripped line)] in order; the line is None for a section header (`data:`)."""
    entries: list[tuple[KeyPath, str | None]] = []
    stack: list[tuple[int, str]] = []
    for line in fragment.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        key, _, rest = line.strip().partition(":")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = tuple(name for _, name in stack) + (key.strip(),)
        if rest.split("#", 1)[0].strip():
            entries.append((path, line.strip()))
        else:
            entries.append((path, None))
            stack.append((indent, key.strip()))
    return entries


def apply_fragment(base_text: str, fragment: str) -> str:
    """`base_text` with the fragment's keys replaced, inserted or deleted (see the module doc)."""
    lines = base_text.splitlines()
    cursor: dict[KeyPath, int] = {}  # 0-based line of the last fragment line in each section
    written: set[KeyPath] = set()
    for path, raw in parse_fragment(fragment):
        doc = load_text("\n".join(lines) + "\n", "<example>")
        parent = path[:-1]
        if raw is not None and raw.split(":", 1)[1].strip() == DELETE:
            if doc.has_key(path):
                index, column = doc.position(path)
                end = _block_end(lines, index - 1, column - 1)
                del lines[index - 1:end]
                cursor = {k: (v - (end - index + 1) if v >= index else v) for k, v in cursor.items()}
            continue
        if doc.has_key(path) and path not in written and (raw is None or _single_line(doc, path)):
            index = doc.position(path)[0] - 1
            if raw is not None:
                lines[index] = " " * (doc.position(path)[1] - 1) + raw
                written.add(path)
            cursor[parent if raw is not None else path] = index
            continue
        index = _insertion_index(doc, lines, parent, cursor)
        text = raw if raw is not None else f"{path[-1]}:"
        lines.insert(index, " " * _child_indent(doc, parent) + text)
        cursor = {k: (v + 1 if v >= index else v) for k, v in cursor.items()}
        cursor[parent] = index
        if raw is None:
            cursor[path] = index
        written.add(path)
    return "\n".join(lines) + "\n"


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """End (exclusive) of the key at `start`: its line plus the deeper-indented lines under it."""
    end = start + 1
    while end < len(lines):
        text = lines[end]
        deeper = len(text) - len(text.lstrip(" ")) > indent
        if text.strip() and not text.lstrip().startswith("#") and not deeper:
            break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # leave the blank lines that follow
        end -= 1
    return end


def _single_line(doc: YamlDocument, path: KeyPath) -> bool:
    value = doc.plain()
    for part in path:
        value = value[part]
    return not isinstance(value, (dict, list))


def _insertion_index(doc: YamlDocument, lines: list[str], parent: KeyPath, cursor: dict[KeyPath, int]) -> int:
    if parent in cursor:
        return cursor[parent] + 1
    if parent:
        return doc.position(parent)[0]  # right below the section header
    return len(lines)


def _child_indent(doc: YamlDocument, parent: KeyPath) -> int:
    if not parent:
        return 0
    node = doc.plain()
    for part in parent:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    for key in node if isinstance(node, dict) else ():
        if doc.has_key(parent + (key,)):
            return doc.position(parent + (key,))[1] - 1
    return doc.position(parent)[1] - 1 + 2
