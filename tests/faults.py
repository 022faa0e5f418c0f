"""Fault injection for writers: fail or die at the Nth file-system step.

A "step" is one call of os.open (writing), os.replace, os.rename, os.unlink, os.fsync or os.chmod
whose path lies under `root` (fsync: any). `count_steps` runs a writer once to count them;
`fail_at(n)` raises OSError(ENOSPC) at step n (in process); `die_at(n)` runs the writer in a
forked child that SIGKILLs itself at step n, and returns once the child is dead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
from pathlib import Path
from typing import Callable, Iterator

_NAMES = ("open", "replace", "rename", "unlink", "fsync", "chmod")


@contextlib.contextmanager
def _steps(root: Path, on_step: Callable[[int], None]) -> Iterator[list[int]]:
    count = [0]
    real = {name: getattr(os, name) for name in _NAMES}
    root = str(root)

    def wrap(name):
        def call(*args, **kwargs):
            first = args[0] if args else None
            writing = name != "open" or (len(args) > 1 and args[1] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writing and (name == "fsync" or str(first).startswith(root)):
                count[0] += 1
                on_step(count[0])
            return real[name](*args, **kwargs)
        return call

    for name in _NAMES:
        setattr(os, name, wrap(name))
    try:
        yield count
    finally:
        for name, fn in real.items():
            setattr(os, name, fn)


def count_steps(root: Path, writer: Callable[[], object]) -> int:
    with _steps(root, lambda n: None) as count:
        writer()
    return count[0]


def fail_at(root: Path, n: int, writer: Callable[[], object]) -> BaseException | None:
    """Run `writer` with step `n` raising OSError(ENOSPC); return what it raised."""
    def boom(i: int) -> None:
        if i == n:
            raise OSError(errno.ENOSPC, "No space left on device (injected)")

    with _steps(root, boom):
        try:
            writer()
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            return exc
    return None


def die_at(root: Path, n: int, writer: Callable[[], object]) -> int:
    """Run `writer` in a forked child that is SIGKILLed at step `n`; return the child's wait status."""
    pid = os.fork()
    if pid == 0:  # child
        try:
            def die(i: int) -> None:
                if i == n:
                    os.kill(os.getpid(), signal.SIGKILL)

            with _steps(root, die):
                writer()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return status


def snapshot(folder: Path, ignore: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) and its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ignore}
