"""Migration writes: `atomic_write` (re-exported from `ahsd_config.input.files`, the project's one safe
file replacement), a backup of the previous content, and a lock against concurrent migrations.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from ahsd_config.input.files import LockTimeout, atomic_write, file_lock, write_target
from ahsd_config.errors import InputError

__all__ = ["atomic_write", "backup_path", "write_backup", "locked"]


def backup_path(path: str | Path) -> Path:
    return Path(str(write_target(path)) + ".bak")


def write_backup(path: str | Path, text: str) -> Path:
    """Keep the previous content next to the file as FILE.bak (replaced on every migrate)."""
    bak = backup_path(path)
    atomic_write(bak, text, follow_symlinks=False)
    return bak


@contextlib.contextmanager
def locked(path: str | Path, timeout: float = 10.0) -> Iterator[None]:
    """Hold FILE.lock while migrating FILE; a second migrate of the same file waits, then gives up.
    The lock sits next to the file actually written (a symlink's target)."""
    try:
        with file_lock(write_target(path), timeout=timeout):
            yield
    except LockTimeout:
        raise InputError(path, f"another ahsd-config is migrating {path} (lock {write_target(path)}.lock "
                               "held); try again") from None
