"""Loading and writing revision files; finding the chain.

Where the chain is: `ahsd_config.project` (the nearest pyproject.toml with `[tool.ahsd]`, its
`migrations` folder; else the chain shipped inside the package, read-only).
"""

from __future__ import annotations

import io
from pathlib import Path

from ahsd_config.loader import load_file, make_yaml
from ahsd_config.project import SHIPPED_CHAIN, find_chain

from .errors import RevisionFormatError
from .graph import RevisionMap
from .model import Revision, parse_revision
from .rt import to_rt

SHIPPED = SHIPPED_CHAIN  # read-only data inside the package; never written (see project.py)


def find_migrations_dir(start: str | Path | None = None) -> Path:
    """The chain to read from (`project.find_chain`): the project's folder, else the shipped one."""
    return find_chain(start).folder


def load_revisions(folder: str | Path) -> list[Revision]:
    folder = Path(folder)
    revs = []
    for path in sorted(folder.glob("*.yaml")):
        doc = load_file(path)
        revs.append(parse_revision(doc.data, str(path)))
    return revs


def load_map(folder: str | Path | None = None) -> RevisionMap:
    folder = Path(folder) if folder is not None else find_migrations_dir()
    return RevisionMap(lambda: load_revisions(folder))


def file_name(rev: Revision) -> str:
    return f"{rev.date[:10] or 'undated'}_{rev.id}.yaml"


def dump_revision(rev: Revision) -> str:
    yaml = make_yaml()
    buf = io.StringIO()
    yaml.dump(to_rt(rev.to_plain()), buf)  # block mappings, flow scalar lists
    return buf.getvalue()


def write_revision(folder: str | Path, rev: Revision) -> Path:
    from .atomic import atomic_write

    path = Path(folder) / file_name(rev)
    if path.exists():
        raise RevisionFormatError(str(path), "exists already; revision files are never edited after they land")
    parse_revision(_reload(dump_revision(rev)), str(path))  # what we write must read back
    atomic_write(path, dump_revision(rev))
    return path


def _reload(text: str):
    from ahsd_config.loader import load_text

    return load_text(text).plain()
