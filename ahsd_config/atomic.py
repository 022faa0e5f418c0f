"""The one way this project replaces a file: temp file in the same folder, flush, fsync, rename,
fsync the folder. A reader (or a crash) sees the old file or the new one, never half of either.

`ahsd_config` (configs, revisions, schema, reports) and `ahsd_train` (checkpoints, shards, run
files) both write through here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Union

Payload = Union[bytes, Callable[[BinaryIO], object]]


def atomic_write_bytes(path: str | Path, payload: Payload) -> None:
    """Replace `path` with `payload`: bytes, or a function that writes into the open binary file.

    The file's permission bits are kept when it existed; a new file gets 0666 minus the umask, as
    `open()` would give it (mkstemp's 0600 would make run files private to their writer); missing
    parent folders are created.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(payload, (bytes, bytearray)):
                handle.write(payload)
            else:
                payload(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def current_umask() -> int:
    """The process umask (reading it means setting it; set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, text: str) -> None:
    """Replace `path` with `text` encoded as UTF-8 (newlines written as given)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def fsync_dir(folder: str | Path) -> None:
    """Make a rename durable; a no-op where a directory cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
