"""Loading and writing revision files; finding the chain.

Where the chain is: `ahsd_config.input.project` (the nearest pyproject.toml with `[tool.ahsd]`, its
`migrations` folder; else the chain shipped inside the package, read-only).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Mapping

from ahsd_config.errors import InputError
from ahsd_config.input.files import commit_files, folder_lock, recover
from ahsd_config.input.loader import load_file, make_yaml
from ahsd_config.input.project import SHIPPED_CHAIN, find_chain

from .errors import RevisionFormatError
from .graph import RevisionMap
from .model import Revision, parse_revision
from .rt import to_rt

SHIPPED = SHIPPED_CHAIN  # read-only data inside the package; never written (see input/project.py)


def find_migrations_dir(start: str | Path | None = None) -> Path:
    """The chain to read from (`project.find_chain`): the project's folder, else the shipped one."""
    return find_chain(start).folder


def load_revisions(folder: str | Path) -> list[Revision]:
    """The folder's revisions, read under its lock: a squash/merge/revision committing meanwhile
    is seen whole or not at all (unlocked, a read could list a file the commit then removes)."""
    folder = Path(folder)
    with contextlib.ExitStack() as held:
        if folder.is_dir():
            with contextlib.suppress(OSError):  # a folder nobody can write (the shipped chain): no writer to wait for
                held.enter_context(folder_lock(folder))
            recover(folder)  # finish a revision set a killed squash/merge/revision committed
        revs = []
        for path in sorted(folder.glob("*.yaml")):
            doc = load_file(path, roundtrip=True)  # a revision's values keep their spelling (0.50 stays 0.50)
            revs.append(parse_revision(doc.data, str(path)))
    return revs


def load_map(folder: str | Path | None = None) -> RevisionMap:
    folder = Path(folder) if folder is not None else find_migrations_dir()
    return RevisionMap(lambda: load_revisions(folder))


def file_name(rev: Revision) -> str:
    """`2025-11-15_v15e.yaml`; `parse_revision` has checked that id and date cannot leave the folder."""
    return f"{rev.date[:10] or 'undated'}_{rev.id}.yaml"


def dump_revision(rev: Revision) -> str:
    yaml = make_yaml()
    buf = io.StringIO()
    yaml.dump(to_rt(rev.to_plain()), buf)  # block mappings, flow scalar lists
    return buf.getvalue()


def write_revision(folder: str | Path, rev: Revision, chain: RevisionMap | None = None) -> Path:
    """Add one revision file (never over an existing one)."""
    return replace_revisions(folder, [rev], chain=chain)[0]


def replace_revisions(folder: str | Path, new: list[Revision], old: list[Revision] = (),
                      chain: RevisionMap | None = None, stamped: Mapping[str | Path, bytes] | None = None
                      ) -> list[Path]:
    """The one writer of revision files: add `new` and remove `old` as one set, with `stamped`
    (config path -> its new text) when a config is stamped at the new revision in the same step.

    Every new file is dumped, read back and parsed, and the graph `chain` becomes (when given) is
    built, before anything on disk changes; then `commit_files` replaces the set atomically (a
    failure or a kill at any point leaves the old set or the new one, byte for byte)."""
    folder = Path(folder)
    removing = {Path(r.path).name for r in old if r.path}
    for r in old:
        if r.path and Path(r.path).resolve().parent != folder.resolve():
            raise RevisionFormatError(r.path, f"is not in {folder}; revisions are replaced only inside one folder")
    writes: dict[str, bytes] = {}
    for rev in new:
        name = file_name(rev)
        path = folder / name
        text = dump_revision(rev)
        try:
            parse_revision(_reload(text, str(path)), str(path))  # what we write must read back
        except InputError as exc:  # e.g. more nodes than the loader reads: say it was never written
            raise RevisionFormatError(str(path), f"would not read back ({exc.message}); nothing was "
                                                 "written") from None
        if name in writes or (path.exists() and name not in removing):
            raise RevisionFormatError(str(path), "exists already; revision files are never edited after they land")
        writes[name] = text.encode("utf-8")
    if chain is not None:  # the resulting graph must hold together
        gone = {r.id for r in old}
        survivors = [r for r in chain.by_id.values() if r.id not in gone]
        RevisionMap(lambda: survivors + list(new)).order
    folder.mkdir(parents=True, exist_ok=True)
    commit_files(folder, writes, sorted(removing - set(writes)), new=[n for n in writes if n not in removing],
                 outside=stamped)
    return [folder / n for n in writes]


def _reload(text: str, path: str = "<revision>"):
    from ahsd_config.input.loader import load_text

    return load_text(text, path).plain()
