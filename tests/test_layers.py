"""The folder names are the architecture (docs/ARCHITECTURE.md): lower rooms never import higher
ones, and no module imports itself back through others.

Every import of every module is read with `ast`, function-local and `TYPE_CHECKING` ones too (a
lazy import is still a dependency; it only moves the cost). A failure names the offending import:
`ahsd_config/migrate/apply.py:22 imports ahsd_config.api.validate (layer 5 api) from layer 3 migrate`.

`ROOMS` maps module prefixes to (layer, room), longest prefix first. The train engineer adds the
`ahsd_train` rooms as rows of their own (a second table checked by the same functions, e.g. in
tests/test_layers_train.py: `from tests.test_layers import check_layers` or a copy of the call).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (module prefix, layer, room): ahsd_config, bottom -> top, as in LAYOUT.md / docs/ARCHITECTURE.md.
ROOMS: list[tuple[str, int, str]] = [
    ("ahsd_config.errors", 0, "foundation"),
    ("ahsd_config.findings", 0, "foundation"),
    ("ahsd_config.values", 0, "foundation"),
    ("ahsd_config.input", 1, "input"),
    ("ahsd_config.schema", 2, "schema"),
    ("ahsd_config.migrate", 3, "migrate"),
    ("ahsd_config.rules", 4, "rules"),
    ("ahsd_config.api", 5, "api"),
    ("ahsd_config.gate", 6, "gate"),
    ("ahsd_config.render", 7, "render"),
    ("ahsd_config.cli", 8, "cli"),
    ("ahsd_config.__main__", 8, "cli"),
    ("ahsd_config", 0, "foundation"),  # the package itself: __version__ only
    # ahsd_train rooms: the train engineer's rows go in their own table (see the docstring).
]


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted (a submodule when `from pkg import submodule`)
    where: str  # file:line


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> list[Import]:
    """Every import in `path` (top level, function-local, TYPE_CHECKING), resolved to modules."""
    source = module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            out += [Import(source, alias.name, where) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                out.append(Import(source, sub if _is_module(sub) else module, where))
    return out


def room_of(module: str, rooms: list[tuple[str, int, str]]) -> tuple[int, str] | None:
    for prefix, layer, room in sorted(rooms, key=lambda r: -len(r[0])):
        if module == prefix or module.startswith(prefix + "."):
            return layer, room
    return None


def project_imports(package: str) -> list[Import]:
    files = sorted((ROOT / package).rglob("*.py"))
    return [imp for f in files for imp in imports_of(f) if imp.target.split(".")[0] == package]


def upward_imports(imports: list[Import], rooms: list[tuple[str, int, str]]) -> list[str]:
    bad = []
    for imp in imports:
        src, dst = room_of(imp.source, rooms), room_of(imp.target, rooms)
        assert src is not None, f"{imp.source} is in no room of the table; add it"
        assert dst is not None, f"{imp.target} is in no room of the table; add it"
        if dst[0] > src[0]:
            bad.append(f"{imp.where} imports {imp.target} (layer {dst[0]} {dst[1]}) from layer {src[0]} {src[1]}")
    return bad


def cycles(imports: list[Import]) -> list[str]:
    """Import cycles between modules, each as `a -> b -> a` with the file:line of each edge."""
    edges: dict[str, dict[str, str]] = {}
    for imp in imports:
        if imp.target != imp.source and not imp.source.startswith(imp.target + "."):  # a package's own __init__
            edges.setdefault(imp.source, {}).setdefault(imp.target, imp.where)
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in edges.get(node, {}):
            if state.get(nxt) == "open":
                loop = stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt]
                found.append(" -> ".join(f"{a} ({edges[a][b]})" for a, b in zip(loop, loop[1:])) + f" -> {nxt}")
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def check_layers(package: str, rooms: list[tuple[str, int, str]]) -> list[str]:
    imports = project_imports(package)
    return upward_imports(imports, rooms) + [f"import cycle: {c}" for c in cycles(imports)]


def test_ahsd_config_rooms_import_only_downward_and_without_cycles():
    problems = check_layers("ahsd_config", ROOMS)
    assert not problems, "\n".join(problems)


def test_the_checker_names_an_upward_import_and_a_cycle(tmp_path):
    """The checker itself can fail: an engine module importing the API, and a two-module cycle."""
    fake = [Import("ahsd_config.migrate.apply", "ahsd_config.api.validate", "ahsd_config/migrate/apply.py:22"),
            Import("ahsd_config.gate.a", "ahsd_config.gate.b", "a.py:1"),
            Import("ahsd_config.gate.b", "ahsd_config.gate.a", "b.py:3")]
    assert upward_imports(fake, ROOMS) == [
        "ahsd_config/migrate/apply.py:22 imports ahsd_config.api.validate (layer 5 api) from layer 3 migrate"]
    assert cycles(fake) == ["ahsd_config.gate.a (a.py:1) -> ahsd_config.gate.b (b.py:3) -> ahsd_config.gate.a"]


def test_function_local_and_relative_imports_are_read(tmp_path):
    here = ROOT / "ahsd_config" / "migrate" / "model.py"  # `from .transforms import problem` inside a function
    targets = {imp.target for imp in imports_of(here)}
    assert "ahsd_config.migrate.transforms" in targets and "ahsd_config.migrate.errors" in targets
