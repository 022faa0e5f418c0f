"""`ahsd_train`'s rooms import downward only, and no modules import each other in a circle.

Rooms, bottom to top (docs/ARCHITECTURE.md):

    foundation  ahsd_train/__init__.py, ahsd_train/errors.py   (imports nothing of ahsd_train)
    engine      ahsd_train/engine/    model, loss, data, metrics, benchmark maths
    run         ahsd_train/run/       one training run: setup, the loop, records, health, files
    review      ahsd_train/review/    reading runs back: doctor, compare, evaluate, bench
    cli         ahsd_train/cli.py, ahsd_train/__main__.py, ahsd_train/entry.py (the light entry point),
                ahsd_train/signals.py (its handlers)

Every import counts, the ones inside functions and under `if TYPE_CHECKING:` too: a function-local
import is still a dependency, only a later one (that is how cycles hide).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ahsd_train"
ROOMS = ("foundation", "engine", "run", "review", "cli")
RANK = {room: i for i, room in enumerate(ROOMS)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def room_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in ("engine", "run", "review"):
        return parts[1]
    if module in ("ahsd_train.cli", "ahsd_train.__main__", "ahsd_train.entry", "ahsd_train.signals"):
        return "cli"
    if module in ("ahsd_train", "ahsd_train.errors"):
        return "foundation"
    raise AssertionError(f"{module} is in no room: put it in engine/, run/ or review/, or name its room here")


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if MODULES[importer].name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports_of(module: str) -> list[tuple[str, int]]:
    """(imported ahsd_train module, line) for every import statement anywhere in `module`."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            for alias in node.names:  # `from ahsd_train.run import trainer` imports a module
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in MODULES else base, node.lineno))
    return [(name, line) for name, line in found if name == "ahsd_train" or name.startswith("ahsd_train.")]


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        graph[module] = {name for name, _ in imports_of(module) if name in MODULES and name != module}
    return graph


def upward_imports() -> list[str]:
    found = []
    for module in MODULES:
        for name, line in imports_of(module):
            if name not in MODULES:
                continue
            low, high = room_of(module), room_of(name)
            if RANK[high] > RANK[low]:
                found.append(f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {module} ({low}) "
                             f"imports {name} ({high}), a higher room")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_is_in_a_room():
    assert sorted({room_of(m) for m in MODULES}) == sorted(ROOMS)


def test_no_room_imports_a_higher_room():
    assert upward_imports() == []


def test_no_import_cycle_between_modules():
    found = cycles(import_graph())
    assert found == [], "import cycles (function-local imports included): " + "; ".join(
        " <-> ".join(c) for c in found)


def test_no_import_cycle_between_rooms():
    graph = import_graph()
    edges = {(room_of(a), room_of(b)) for a, targets in graph.items() for b in targets if room_of(a) != room_of(b)}
    rooms = {r: {b for a, b in edges if a == r} for r in ROOMS}
    assert cycles(rooms) == []


# --- the checker itself catches what it must (a checker that cannot fail proves nothing) ---------


def test_the_checker_names_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "ahsd_train"
    (fake / "engine").mkdir(parents=True)
    (fake / "run").mkdir()
    for path in ("__init__.py", "errors.py", "engine/__init__.py", "run/__init__.py", "run/trainer.py"):
        (fake / path).write_text("")
    (fake / "engine" / "model.py").write_text("def f():\n    from ahsd_train.run import trainer\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    monkeypatch.setattr(sys.modules[__name__], "MODULES", {module_name(p): p for p in sorted(fake.rglob("*.py"))})
    [found] = upward_imports()
    assert found == ("ahsd_train/engine/model.py:2: ahsd_train.engine.model (engine) imports "
                     "ahsd_train.run.trainer (run), a higher room")


def test_the_checker_names_a_cycle_hidden_in_a_function(tmp_path, monkeypatch):
    fake = tmp_path / "ahsd_train"
    (fake / "engine").mkdir(parents=True)
    for path in ("__init__.py", "engine/__init__.py"):
        (fake / path).write_text("")
    (fake / "engine" / "data.py").write_text("from . import observation\n")
    (fake / "engine" / "observation.py").write_text("def snr():\n    from .data import x\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    monkeypatch.setattr(sys.modules[__name__], "MODULES", {module_name(p): p for p in sorted(fake.rglob("*.py"))})
    assert cycles(import_graph()) == [["ahsd_train.engine.data", "ahsd_train.engine.observation"]]
