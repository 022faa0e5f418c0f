"""Safe writes: `atomic_write(path, text)` (temp file in the same folder, flush, fsync, os.replace,
fsync the folder), a backup of the previous content, and a lock against concurrent migrations.

The gate and the trainer may reuse `atomic_write`; it is the only way the package replaces a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from ahsd_config.errors import InputError


def atomic_write(path: str | Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) so a reader sees the old file or the new one, never half."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    mode = None
    if path.exists():
        mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def backup_path(path: str | Path) -> Path:
    return Path(str(path) + ".bak")


def write_backup(path: str | Path, text: str) -> Path:
    """Keep the previous content next to the file as FILE.bak (replaced on every migrate)."""
    bak = backup_path(path)
    atomic_write(bak, text)
    return bak


@contextlib.contextmanager
def locked(path: str | Path, timeout: float = 10.0) -> Iterator[None]:
    """Hold FILE.lock while migrating FILE; a second migrate of the same file waits, then gives up."""
    lock = FileLock(str(path) + ".lock", timeout=timeout)
    try:
        with lock:
            yield
    except Timeout:
        raise InputError(path, f"another ahsd-config is migrating {path} (lock {path}.lock held); try again") from None
    finally:
        with contextlib.suppress(OSError):
            if not lock.is_locked:
                os.unlink(str(path) + ".lock")
