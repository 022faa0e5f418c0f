"""Which project a command works on, found the way git and pre-commit find theirs.

Walk up from the working directory (or a given start) to the first `pyproject.toml` that has a
`[tool.ahsd]` table; that folder is the project root and the table its settings:

    [tool.ahsd]
    migrations = "migrations"                       # the revision chain (a folder of YAML files)
    config_globs = ["configs/**/*.yaml"]            # what the CI gate watches
    default_config = "configs/enhanced_training.yaml"   # `ahsd-train run` without --config

A `pyproject.toml` without `[tool.ahsd]` (another package's) is walked past, like git walks past
folders without `.git`. Outside any project, commands that only read use the chain shipped inside
the package (`ahsd_config/chain`, read-only data); commands that write revisions refuse
(`writable_chain`), so nothing is ever written into an installed package.

Light on purpose: tomllib and pathlib only (ahsd-config starts on every editor save; the trainer
and the gate reuse this module).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ahsd_config.errors import InputError, UsageError
from ahsd_config.input.files import TooLarge, read_bounded

PYPROJECT = "pyproject.toml"
SHIPPED_CHAIN = Path(__file__).resolve().parent.parent / "chain"
# The defaults of `[tool.ahsd]`: what this repository's own table spells out.
DEFAULT_MIGRATIONS = "migrations"
DEFAULT_CONFIG_GLOBS = ("configs/**/*.yaml",)
DEFAULT_CONFIG = "configs/enhanced_training.yaml"
MAX_PYPROJECT = 4 * 1024 * 1024


class NoProject(UsageError):
    """A command that needs a project ran outside one (exit 2)."""

    def __init__(self, start: Path, needs: str) -> None:
        super().__init__(f"no ahsd project here: no {PYPROJECT} with a [tool.ahsd] table in {start} "
                         f"or any folder above it; {needs}")
        self.start = start


@dataclass(frozen=True)
class Settings:
    """`[tool.ahsd]` of one pyproject.toml, with the defaults filled in."""

    migrations: str = DEFAULT_MIGRATIONS
    config_globs: tuple[str, ...] = DEFAULT_CONFIG_GLOBS
    default_config: str = DEFAULT_CONFIG


@dataclass(frozen=True)
class Project:
    root: Path
    settings: Settings

    @property
    def pyproject(self) -> Path:
        return self.root / PYPROJECT

    @property
    def migrations(self) -> Path:
        return self.root / self.settings.migrations

    @property
    def default_config(self) -> Path:
        return self.root / self.settings.default_config


@dataclass(frozen=True)
class Chain:
    """Where the revisions are read from, and why there."""

    folder: Path
    project: Project | None

    @property
    def shipped(self) -> bool:
        return self.project is None or self.folder == SHIPPED_CHAIN

    def describe(self) -> str:
        """One line for `--verbose` and `heads`: which project and which chain."""
        if self.project is None:
            return f"chain: {self.folder} (shipped with ahsd, read-only; no project found)"
        if self.shipped:
            return (f"project: {self.project.root}; chain: {self.folder} (shipped with ahsd, read-only: "
                    f"the project has no {self.project.settings.migrations}/ folder)")
        return f"project: {self.project.root}; chain: {self.folder}"


def parse_settings(text: str, source: str | Path = PYPROJECT) -> Settings | None:
    """`[tool.ahsd]` of a pyproject.toml text; None when it has no such table.

    A file that does not parse is bad input only when it mentions `[tool.ahsd` (then it is ours);
    another package's broken pyproject.toml is walked past."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if "tool.ahsd" in text:
            raise InputError(source, f"cannot read [tool.ahsd]: {exc}") from None
        return None
    table = data.get("tool", {}).get("ahsd")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise InputError(source, "[tool.ahsd] must be a table")
    settings = Settings(migrations=_string(table, "migrations", DEFAULT_MIGRATIONS, source),
                        config_globs=_globs(table, source),
                        default_config=_string(table, "default_config", DEFAULT_CONFIG, source))
    for key, value in (("migrations", settings.migrations), ("default_config", settings.default_config),
                       *(("config_globs", g) for g in settings.config_globs)):
        _inside_project(key, value, source)
    return settings


def _inside_project(key: str, value: str, source: str | Path) -> None:
    """Every path of [tool.ahsd] names something inside the project: `migrations = "../.."` or
    `config_globs = ["/**"]` walked the whole disk (and a NUL byte crashed the path functions)."""
    from pathlib import PurePosixPath

    parts = PurePosixPath(value.replace("\\", "/")).parts
    if not value.strip() or "\0" in value or value.startswith(("/", "~")) or ".." in parts or \
            (len(value) > 1 and value[1] == ":"):
        raise InputError(source, f"[tool.ahsd] {key} {value!r} must be a path inside the project, relative to "
                                 f"{PYPROJECT} (no '..', no absolute path)")


def _string(table: dict[str, Any], key: str, default: str, source: str | Path) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise InputError(source, f"[tool.ahsd] {key} must be a non-empty string, not {value!r}")
    return value


def _globs(table: dict[str, Any], source: str | Path) -> tuple[str, ...]:
    value = table.get("config_globs", list(DEFAULT_CONFIG_GLOBS))
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(source, f"[tool.ahsd] config_globs must be a list of strings, not {value!r}")
    return tuple(value)


def find_project(start: str | Path | None = None) -> Project | None:
    """The nearest project at or above `start` (default: the working directory), or None."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        pyproject = folder / PYPROJECT
        try:  # bounded: a FIFO, a device or a huge file named pyproject.toml never hangs a command
            text = read_bounded(pyproject, MAX_PYPROJECT).decode("utf-8")
        except (OSError, UnicodeDecodeError, TooLarge):
            continue  # missing or unreadable: not a project we can use; keep walking like git does
        settings = parse_settings(text, pyproject)
        if settings is not None:
            return Project(folder, settings)
    return None


def require_project(start: str | Path | None = None, needs: str = "run it inside a project") -> Project:
    """`find_project`, or `NoProject` saying what the command needed it for."""
    project = find_project(start)
    if project is None:
        raise NoProject(Path(start if start is not None else Path.cwd()).resolve(), needs)
    return project


def find_chain(start: str | Path | None = None) -> Chain:
    """The chain to read: the project's migrations folder, else the shipped one."""
    project = find_project(start)
    if project is not None and project.migrations.is_dir():
        return Chain(project.migrations, project)
    return Chain(SHIPPED_CHAIN, project)


def writable_chain(start: str | Path | None = None) -> Path:
    """The folder new revisions go to: the project's, never the shipped chain (else NoProject)."""
    project = require_project(start, "new revisions are written to a project's migrations folder, "
                                      "never into the installed package; cd into your project, or "
                                      "add [tool.ahsd] to its pyproject.toml")
    folder = project.migrations
    if not folder.is_dir():
        raise UsageError(f"{folder} does not exist: create it (the project's [tool.ahsd] migrations "
                         f"folder) and copy the chain your configs are stamped against into it")
    if folder.resolve() == SHIPPED_CHAIN:  # pragma: no cover - a project rooted inside the package
        raise UsageError(f"{folder} is the chain shipped with ahsd; it is read-only")
    return folder


def report_target_problem(output: str | Path, inputs: Sequence[str | Path] = (),
                          starts: Sequence[str | Path | None] = (None,)) -> str | None:
    """Why a report (validate -o, schema -o, ci --sarif/--summary) must not be written to `output`,
    or None. A report never replaces what the tools read: the command's own inputs, an existing
    YAML file (a config or a revision), anything in a project's revision folder, its
    pyproject.toml, or a file its `config_globs` watch (projects found from each of `starts`)."""
    import glob
    import os

    real = os.path.realpath(output)
    for path in inputs:
        if os.path.realpath(path) == real:
            return f"it is {path}, an input of this command"
    if os.path.isfile(real) and real.endswith((".yaml", ".yml")):
        return "it is an existing YAML file (a config or a revision file)"
    for start in starts:
        project = find_project(start)
        if project is None:
            continue
        root = os.path.realpath(project.root)
        migrations = os.path.realpath(project.migrations)
        if real == os.path.realpath(project.pyproject):
            return f"it is the project's {PYPROJECT}"
        if real == migrations or real.startswith(migrations + os.sep):
            return f"it is in the project's revision folder {project.migrations}"
        for pattern in project.settings.config_globs:
            matches = glob.glob(os.path.join(glob.escape(root), pattern), recursive=True)
            if any(os.path.realpath(m) == real for m in matches):
                return f"it is a config the project watches ([tool.ahsd] config_globs {pattern!r})"
    return None


def refuse_report_over_input(output: str | Path | None, option: str, inputs: Sequence[str | Path] = (),
                             starts: Sequence[str | Path | None] = (None,)) -> None:
    """`report_target_problem` as the one-line UsageError (exit 2) every report option gives."""
    if output is None or str(output) == "-":
        return
    why = report_target_problem(output, inputs, starts)
    if why is not None:
        raise UsageError(f"{option} {output}: {why}; a report never replaces an input (write it elsewhere)")
