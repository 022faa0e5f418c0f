"""The one way this project writes and reads files.

- `atomic_write_bytes` / `atomic_write`: temp file in the same folder, flush, fsync, rename, fsync
  the folder. A reader (or a crash) sees the old file or the new one, never half of either. A
  symlink is written through to its target; a replaced file keeps its mode, a new one gets the
  user's umask; a read-only file is refused, not silently replaced.
- `commit_files`: several files of one folder replaced (and others removed) as a set, through a
  journal: staged temp files are fsynced, then the journal is written (the commit point), then
  renames and unlinks follow. An exception rolls the folder back; a process killed after the
  commit point leaves the journal, and `recover` (run by the next reader or writer) completes it.
  Either way the folder holds the old set or the new set, byte for byte. The set may also replace
  existing YAML files elsewhere (`revision --from FILE` stamps FILE at the revision it writes):
  each is staged next to itself and named in the journal by absolute path.
- `sweep_stale_temps`: temp files carry the writer's pid; those of dead processes are removed.
- `file_lock`: an exclusive lock on FILE.lock that only its holder ever removes; `locked`: the
  same around an in-place edit of FILE, a held lock being one line (exit 2).
- `write_backup` / `backup_path`: FILE.bak, the previous content of an edited file.
- `read_bounded`: a regular file of at most `cap` bytes, checked before reading (never /dev/zero,
  a FIFO or a device; never more than `cap` bytes read); `read_lines_bounded` the same, streamed
  line by line with a cap per line (a log such as `metrics.jsonl`).

`ahsd_config` (configs, revisions, schema, reports) and `ahsd_train` (checkpoints, shards, run
files) both write and read through here.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Mapping, Sequence, Union

from ahsd_config.errors import AhsdConfigError, InputError

Payload = Union[bytes, Callable[[BinaryIO], object]]

JOURNAL = ".ahsd-journal.json"
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^./]+\.tmp$", re.DOTALL)  # a name may hold a newline


# ----------------------------------------------------------------------------- single files
def write_target(path: str | Path) -> Path:
    """Where a write to `path` lands: a symlink's final target (written through, never replaced)."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def make_folder(folder: Path) -> None:
    """`mkdir -p folder`; a file (or a dangling link) where a folder is needed is named as such
    (mkdir only says "File exists", about the folder it could not make)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        for above in (folder, *folder.parents):
            if os.path.lexists(above) and not above.is_dir():
                what = ("is a symbolic link to a missing folder" if above.is_symlink() and not above.exists()
                        else "is a file, not a folder")
                raise NotADirectoryError(errno.ENOTDIR, what, str(above)) from None
        raise


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def stage_file(folder: str | Path, name: str, payload: Payload) -> Path:
    """Write `payload` to a fresh temp file next to `folder/name` (fsynced, with the mode the
    replacement should have); the caller renames it into place. `sweep_stale_temps` removes it
    if the process dies first."""
    return _stage(Path(folder), name, payload, _existing_mode(Path(folder) / name))


def _stage(folder: Path, name: str, payload: Payload, mode: int | None) -> Path:
    """Write `payload` to a fresh temp file next to `name` (fsynced); return its path."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(payload, (bytes, bytearray)):
                handle.write(payload)
            else:
                payload(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode if mode is not None else _new_file_mode())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _existing_mode(path: Path) -> int | None:
    """The mode a replacement keeps; refuses what must not be replaced (read-only, not a file)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(path))
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "is not a regular file", str(path))
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):  # no write bit: read-only, even to root
        raise PermissionError(errno.EACCES, "the file is read-only (chmod u+w to allow it)", str(path))
    return st.st_mode & 0o7777


def atomic_write_bytes(path: str | Path, payload: Payload, follow_symlinks: bool = True) -> None:
    """Replace `path` with `payload`: bytes, or a function that writes into the open binary file.

    The file's permission bits are kept when it existed; missing parent folders are created. A
    symlink is written through to its target, or refused with `follow_symlinks=False` (a file the
    tool names itself, such as FILE.bak, must not be redirected by a planted link).
    """
    if not follow_symlinks and Path(path).is_symlink():
        raise OSError(errno.ELOOP, "is a symbolic link; refusing to write through it", str(path))
    path = write_target(path)
    folder = path.parent if str(path.parent) else Path(".")
    make_folder(folder)
    mode = _existing_mode(path)
    sweep_stale_temps(folder, path.name)  # what a killed writer of this file left
    with _named(path):
        tmp = _stage(folder, path.name, payload, mode)
        try:
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    fsync_dir(folder)


@contextlib.contextmanager
def _named(path: Path) -> Iterator[None]:
    """An OSError without a file name (fsync, write: ENOSPC) names the file being written."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None and exc.errno is not None:
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        raise


def atomic_write(path: str | Path, text: str, follow_symlinks: bool = True) -> None:
    """Replace `path` with `text` encoded as UTF-8 (newlines written as given)."""
    atomic_write_bytes(path, text.encode("utf-8"), follow_symlinks)


def fsync_dir(folder: str | Path) -> None:
    """Make a rename durable; a no-op where a directory cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        return True
    return True


def sweep_stale_temps(folder: str | Path, name: str | None = None) -> list[Path]:
    """Remove temp files left in `folder` by writers that no longer run (SIGKILL, power loss);
    only those of file `name` when given."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            m = _TEMP.match(entry.name)
            if (m and (name is None or m.group("name") == name) and entry.is_file(follow_symlinks=False)
                    and not _alive(int(m.group("pid")))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


# ------------------------------------------------------------------------------ file sets
def _check_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        raise ValueError(f"{name!r} is not a plain file name inside the folder")
    return name


def commit_files(folder: str | Path, writes: Mapping[str, bytes], removes: Sequence[str] = (),
                 new: Sequence[str] = (), outside: Mapping[str | Path, bytes] | None = None) -> None:
    """Write `writes` (file name -> bytes) and remove `removes` in `folder` as one set; the names in
    `new` must not exist yet (checked under the folder's lock, so of two writers racing to create
    the same name the second is refused instead of replacing the first's file). `outside` (path ->
    bytes) replaces existing YAML files elsewhere in the same set (a config stamped at the revision
    being written); the caller holds their locks.

    Nothing is touched until every new file is staged and fsynced; the journal is the commit point.
    """
    folder = Path(folder)
    for name in [*writes, *removes, *new]:
        _check_name(name)
    elsewhere = {_outside_target(path): data for path, data in (outside or {}).items()}
    with folder_lock(folder):
        recover(folder, locked=True)
        for name in new:
            if os.path.lexists(folder / name):
                raise FileExistsError(errno.EEXIST, "exists already (written meanwhile by another ahsd-config?); "
                                                    "revision files are never replaced, nothing was written",
                                      str(folder / name))
        originals = {folder / n: _read_or_none(folder / n) for n in {*writes, *removes}}
        originals.update({target: read_bounded(target, MAX_SET_FILE) for target in elsewhere})
        staged: dict[Path, Path] = {}  # final path -> its staged temp file
        try:
            for name, data in writes.items():
                staged[folder / name] = _stage(folder, name, data, _existing_mode(folder / name))
            for target, data in elsewhere.items():
                sweep_stale_temps(target.parent, target.name)  # what a killed stamp of this file left
                staged[target] = _stage(target.parent, target.name, data, _existing_mode(target))
            for place in {folder, *(target.parent for target in elsewhere)}:
                fsync_dir(place)
            journal = {"writes": {name: staged[folder / name].name for name in writes},
                       "removes": [n for n in removes if n not in writes]}
            if elsewhere:
                journal["outside"] = {str(target): staged[target].name for target in elsewhere}
            atomic_write(folder / JOURNAL, json.dumps(journal) + "\n")  # the commit point
        except BaseException:
            for tmp in staged.values():
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            raise
        try:
            _complete(folder, journal)
        except BaseException:
            _roll_back(folder, originals, staged)
            raise


def _outside_target(path: str | Path) -> Path:
    """An absolute, normalised path to an existing YAML file (a symlink: its target), the only
    kind of file outside the folder a journal may name."""
    target = Path(os.path.abspath(write_target(path)))
    if not _outside_shape(str(target)):
        raise ValueError(f"{str(path)!r} is not a YAML file a file set may replace")
    return target


def _outside_shape(path: str) -> bool:
    return (os.path.isabs(path) and os.path.normpath(path) == path and "\0" not in path
            and path.endswith((".yaml", ".yml")) and not path.endswith("/"))


def folder_lock(folder: str | Path, timeout: float = 30.0):
    """The lock of a revision folder: held by every writer of a file set for its whole
    read-check-write (a `revision`, `squash`, `merge` reads the chain under it) and by readers of
    the folder, so nobody sees half a set or builds on a chain another writer is replacing."""
    return file_lock(Path(folder) / ".ahsd", timeout=timeout)


def _read_or_none(path: Path) -> bytes | None:
    """The old content of a file of the set (bounded: a FIFO or a device in its place is refused)."""
    try:
        return read_bounded(path, MAX_SET_FILE)
    except FileNotFoundError:
        return None
    except TooLarge as exc:
        raise OSError(errno.EFBIG, f"is {exc.size} bytes or more, too large for a revision file", str(path)) from None


MAX_SET_FILE = 8 * 1024 * 1024  # a revision file is a few kB; the cap only keeps a planted file from filling memory
MAX_JOURNAL = 1 << 20


class JournalError(InputError):
    """A journal this tool did not write (garbage, another shape, names that leave the folder): it
    is never acted on; the folder stays as it is until a person looks (exit 2)."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(path, f"{why}; it is not a journal ahsd-config wrote, so nothing was done: a "
                               "squash/merge/revision interrupted here would have left a JSON journal of "
                               "staged temp files; inspect the folder, then remove this file")


def _read_journal(folder: Path) -> dict | None:
    """The journal a killed commit left, checked against the only shape `commit_files` writes:
    {"writes": {NAME: ".NAME.PID.X.tmp"}, "removes": [NAME]}, every NAME a plain file name of the
    folder. Anything else (a journal planted in a pull request, a hand edit) is refused, never
    followed: a journal names files to rename and delete."""
    path = folder / JOURNAL
    try:
        raw = read_bounded(path, MAX_JOURNAL)
    except FileNotFoundError:
        return None  # another process completed it meanwhile
    except TooLarge as exc:
        raise JournalError(path, f"is {exc.size} bytes or more") from None
    except OSError as exc:
        raise JournalError(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        journal = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise JournalError(path, f"is not JSON ({exc})") from None
    if not (isinstance(journal, dict) and set(journal) in ({"writes", "removes"}, {"writes", "removes", "outside"})
            and isinstance(journal["writes"], dict) and isinstance(journal["removes"], list)
            and isinstance(journal.get("outside", {}), dict)):
        raise JournalError(path, "does not hold exactly `writes` (a mapping), `removes` (a list) and "
                                 "optionally `outside` (a mapping)")
    for name, tmp in journal["writes"].items():
        if not (_plain_name(name) and _staged_name(tmp, name)):
            raise JournalError(path, f"names a write {name!r} <- {tmp!r} that is not a staged temp file of this folder")
    for target, tmp in journal.get("outside", {}).items():
        if not (isinstance(target, str) and _outside_shape(target) and _staged_name(tmp, os.path.basename(target))):
            raise JournalError(path, f"names a write {target!r} <- {tmp!r} that is not a YAML file and its "
                                     "staged temp file")
    for name in journal["removes"]:
        if not isinstance(name, str) or not _plain_name(name):
            raise JournalError(path, f"names a removal {name!r} that is not a plain file name of this folder")
    return journal


def _staged_name(tmp: object, name: str) -> bool:
    """`tmp` is the name `_stage` gives a temp file of `name` in the same folder."""
    m = _TEMP.match(tmp) if isinstance(tmp, str) else None
    return m is not None and m.group("name") == name and "/" not in tmp


def _plain_name(name: str) -> bool:
    try:
        _check_name(name)
    except ValueError:
        return False
    return True


def _complete(folder: Path, journal: dict) -> None:
    """Roll a committed journal forward (idempotent: a step already done is skipped)."""
    renames = [(folder / tmp, folder / _check_name(name)) for name, tmp in journal["writes"].items()]
    renames += [(Path(target).parent / tmp, Path(target)) for target, tmp in journal.get("outside", {}).items()]
    for staged, final in renames:
        if staged.exists() or staged.is_symlink():
            if not stat.S_ISREG(os.lstat(staged).st_mode):
                raise OSError(errno.EINVAL, "a staged file of the journal is not a regular file", str(staged))
            os.replace(staged, final)
    for name in journal["removes"]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(folder / _check_name(name))
    for place in {folder, *(final.parent for _, final in renames)}:
        fsync_dir(place)
    os.unlink(folder / JOURNAL)
    fsync_dir(folder)


def _roll_back(folder: Path, originals: dict[Path, bytes | None], staged: dict[Path, Path]) -> None:
    """Put the old set back after an in-process failure. If this fails too, the journal stays and
    the next `recover` completes the new set instead (every staged file is still there)."""
    try:
        for path, data in originals.items():
            if data is None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            elif _read_or_none(path) != data:
                atomic_write_bytes(path, data)
        os.unlink(folder / JOURNAL)
    except BaseException:
        return
    for tmp in staged.values():
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    for place in {folder, *(path.parent for path in originals)}:
        fsync_dir(place)


def recover(folder: str | Path, locked: bool = False) -> bool:
    """Complete a file set a killed writer committed, and sweep dead writers' temp files.

    Cheap when there is nothing to do (two directory lookups). Returns True when it completed one.
    """
    folder = Path(folder)
    done = False
    if (folder / JOURNAL).exists():
        with contextlib.nullcontext() if locked else folder_lock(folder):
            journal = _read_journal(folder)
            if journal is not None:
                _complete(folder, journal)
                done = True
    sweep_stale_temps(folder)
    return done


# ---------------------------------------------------------------------------------- locks
class LockTimeout(AhsdConfigError):
    """Another process holds the lock (exit 2; `locked` says which file and what to do)."""

    def __init__(self, lock: str) -> None:
        super().__init__(f"{lock} is held by another ahsd-config process; try again when it is done")


_HELD: set[tuple[int, str]] = set()  # (thread, lock) held: file_lock is reentrant in one thread, exclusive across threads


@contextlib.contextmanager
def file_lock(path: str | Path, timeout: float = 10.0) -> Iterator[Path]:
    """Hold `PATH.lock` exclusively. Only the holder removes the lock file, and only while it
    still holds it; a waiter whose file was removed meanwhile starts over on the new one, so two
    processes never both believe they hold the lock."""
    import fcntl

    lock = Path(str(path) + ".lock")
    key = (threading.get_ident(), os.path.join(os.path.realpath(lock.parent), lock.name))
    if key in _HELD:  # this thread holds it already (a chain read inside a squash): flock on a
        yield lock  # second descriptor of the same file would wait for ourselves
        return
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, "lock is not a regular file", str(lock))
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LockTimeout(str(lock)) from None
                    time.sleep(0.05)
            try:
                same = os.fstat(fd).st_ino == os.stat(lock, follow_symlinks=False).st_ino
            except FileNotFoundError:
                same = False
            if same:
                _HELD.add(key)
                try:
                    yield lock
                finally:
                    _HELD.discard(key)
                    with contextlib.suppress(OSError):
                        os.unlink(lock)  # still held: nobody can be between open and flock on it
                return
        finally:
            os.close(fd)


@contextlib.contextmanager
def locked(path: str | Path, timeout: float = 10.0) -> Iterator[None]:
    """Hold FILE.lock while editing FILE in place (a migrate, a stamp); a second editor of the same
    file waits, then gives up with one line (exit 2). The lock sits next to the file actually
    written (a symlink's target)."""
    why = missing_file(path)
    if why is not None:  # before any lock file is made: the message names FILE, not FILE.lock
        raise InputError(path, why)
    try:
        with file_lock(write_target(path), timeout=timeout):
            yield
    except LockTimeout:
        raise InputError(path, f"another ahsd-config is migrating {path} (lock {write_target(path)}.lock "
                               "held); try again") from None


def check_replaceable(path: str | Path) -> None:
    """Raise what a replacement of `path` would raise before anything is written (a broken link:
    InputError; a read-only file, a directory, a FIFO: OSError), so a command that writes two
    things can refuse before the first."""
    why = missing_file(path)
    if why is not None:
        raise InputError(path, why)
    _existing_mode(write_target(path))


def missing_file(path: str | Path) -> str | None:
    """Why `path` names no file (a dangling or looping symbolic link says so), or None."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"no such file: {path} is a symbolic link to {os.readlink(path)}, which does not exist"
        return f"no such file: {path}"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path} is a symbolic link that loops (it never reaches a file)"
    return None


# --------------------------------------------------------------------------------- appends
def append_text(path: str | Path, text: str) -> None:
    """Append in one write (a step summary file is appended to, never replaced), then fsync.

    Only to a regular file (created when missing) or a character device such as /dev/stdout:
    opened non-blocking and checked on the descriptor, so a FIFO nobody reads cannot hang the
    command and a directory or socket is one line."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
                     0o666)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # ENXIO: a FIFO that nobody reads
            raise
        raise OSError(errno.EINVAL, "is not a regular file (a FIFO); nothing was appended", str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode)):
            raise OSError(errno.EINVAL, f"is not a regular file ({_kind(mode)}); nothing was appended", str(path))
        os.set_blocking(fd, True)
        data = text.encode("utf-8")
        with _named(Path(path)):
            while data:
                data = data[os.write(fd, data):]
            if stat.S_ISREG(mode):
                os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------- backups
def backup_path(path: str | Path) -> Path:
    """FILE.bak, next to the file actually written (a symlink's target)."""
    return Path(str(write_target(path)) + ".bak")


def write_backup(path: str | Path, text: str) -> Path:
    """Keep the previous content next to the file as FILE.bak (replaced on every edit)."""
    bak = backup_path(path)
    atomic_write(bak, text, follow_symlinks=False)
    return bak


# ---------------------------------------------------------------------------------- reads
def read_bounded(path: str | Path, cap: int) -> bytes:
    """The bytes of a regular file of at most `cap` bytes.

    Raises OSError (FileNotFoundError, IsADirectoryError, or EINVAL "not a regular file") or
    `TooLarge`. Opened non-blocking so a FIFO cannot hang the reader; the type and size are checked
    on the open descriptor, and at most `cap + 1` bytes are ever read.
    """
    fd = _open_regular(path, cap)
    try:
        chunks, total = [], 0
        while total <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:
            raise TooLarge(str(path), total, cap)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_lines_bounded(path: str | Path, line_cap: int, file_cap: int) -> Iterator[tuple[int, bytes]]:
    """(1-based number, bytes without the newline) of each line of a regular file of at most
    `file_cap` bytes, checked as `read_bounded` checks (type and size before reading), streamed: a
    line longer than `line_cap` raises `LineTooLong` naming it, without holding more than
    `line_cap` + 1 MiB. An append-only log (metrics.jsonl) is read through here."""
    fd = _open_regular(path, file_cap)
    try:
        pending, number, total = b"", 0, 0
        while True:
            chunk = os.read(fd, 1 << 20)
            total += len(chunk)
            if total > file_cap:
                raise TooLarge(str(path), total, file_cap)
            if not chunk:
                break
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                number += 1
                if len(line) > line_cap:
                    raise LineTooLong(str(path), number, line_cap)
                yield number, line
            if len(pending) > line_cap:
                raise LineTooLong(str(path), number + 1, line_cap)
        if pending:
            yield number + 1, pending
    finally:
        os.close(fd)


def _open_regular(path: str | Path, cap: int) -> int:
    """A read-only descriptor of `path` once it is known to be a regular file of at most `cap`
    bytes (non-blocking open: a FIFO cannot hang it). Raises OSError or `TooLarge`."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"is not a regular file ({_kind(st.st_mode)})", str(path))
        if st.st_size > cap:
            raise TooLarge(str(path), st.st_size, cap)
    except BaseException:
        os.close(fd)
        raise
    return fd


class TooLarge(Exception):
    def __init__(self, path: str, size: int, cap: int) -> None:
        super().__init__(f"{path} is {size} bytes or more; files larger than {cap} bytes are refused")
        self.path, self.size, self.cap = path, size, cap


class LineTooLong(TooLarge):
    def __init__(self, path: str, line: int, cap: int) -> None:
        Exception.__init__(self, f"{path}:{line}: a line of more than {cap} bytes; lines longer than that are refused")
        self.path, self.size, self.cap, self.line = path, cap + 1, cap, line


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"
