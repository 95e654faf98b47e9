"""Writing beside a session without ever leaving half a file or leaving the session: atomic writes
(temp, fsync, rename), backups the bridge keeps of every session file it replaces, and the lock
that serialises bridge processes writing one session.

Everything below a session folder is reached through directory file descriptors, one component at
a time with ``O_NOFOLLOW`` (:func:`open_dir`): a symlink anywhere below the folder (``.resonant``,
``.resonant/backups``, ``interchange/<name>/audiofiles``, a planted ``lock``) is refused rather
than followed, also when it is swapped in between a check and the write. Temp files carry the
writer's pid (``.NAME.PID.RANDOM.resonant-tmp``) so that leftovers of a killed process are told
apart from a live writer's (bridge.ardour.leftovers).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

from bridge.ardour.model import Session
from bridge.errors import SessionChangedOnDisk, UnsafePath

BACKUP_DIR = ".resonant/backups"
BACKUPS_KEPT = 20
TMP_SUFFIX = ".resonant-tmp"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def tmp_name(name: str) -> str:
    """A temp name beside ``name`` that says which process made it."""
    return f".{name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}"


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _relative(base: Path, path: Path) -> PurePath:
    try:
        rel = PurePath(os.path.abspath(path)).relative_to(os.path.abspath(base))
    except ValueError:
        raise UnsafePath(f"{path} is not inside the session folder {base}") from None
    if any(p in ("..", ".") for p in rel.parts):
        raise UnsafePath(f"{path} is not inside the session folder {base}")
    return rel


def open_dir(base: Path, rel: str | PurePath, create: bool = False, mode: int = 0o700) -> int:
    """A descriptor of ``base/rel``, every component below ``base`` a real folder (never a symlink),
    made (with ``mode``) where missing when ``create``. The caller closes it."""
    fd = os.open(base, _DIR_FLAGS)
    try:
        walked = Path(base)
        for part in PurePath(rel).parts:
            walked = walked / part
            if part in ("..", ".", "/"):
                raise UnsafePath(f"{walked}: the bridge only writes below the session folder")
            try:
                nfd = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, mode, dir_fd=fd)
                except FileExistsError:
                    pass
                nfd = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafePath(
                        f"{walked} is a symlink or not a folder; the bridge writes only real folders inside"
                        " the session (remove it, or replace it with a folder)") from None
                raise
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


@contextmanager
def dir_of(path: Path, within: Path | None, create: bool = True, mode: int = 0o700) -> Iterator[int]:
    """The descriptor of ``path``'s folder: reached from ``within`` without following symlinks, or
    (``within`` None: the user's own config folders) opened as it is."""
    if within is None:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent, _DIR_FLAGS)
    else:
        fd = open_dir(within, _relative(within, path.parent), create, mode)
    try:
        yield fd
    finally:
        os.close(fd)


def write_at(dfd: int, name: str, data: bytes, mode: int = 0o600, keep_mode: bool = True) -> None:
    """Atomically replace ``name`` in the folder ``dfd`` (a symlink there is replaced, never followed)."""
    if keep_mode:
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if stat.S_ISREG(st.st_mode):
                mode = st.st_mode & 0o777
        except FileNotFoundError:
            pass
    tmp = tmp_name(name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dfd)
    try:
        try:
            os.fchmod(fd, mode)  # exactly this mode, whatever the umask
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dfd)
        except OSError:
            pass
        raise
    os.fsync(dfd)


def atomic_write(path: Path, data: bytes, within: Path | None = None, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half.
    ``within``: the session folder ``path`` must stay inside (no symlink followed below it)."""
    with dir_of(path, within) as dfd:
        write_at(dfd, path.name, data, mode)


def read_within(within: Path, path: Path, limit: int = 64 << 20) -> bytes | None:
    """The bytes of a bridge file below the session folder, None if it is missing, a symlink or too big."""
    try:
        with dir_of(path, within, create=False) as dfd:
            fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode) or os.fstat(fd).st_size > limit:
                    return None
                chunks = []
                while chunk := os.read(fd, 1 << 20):
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                os.close(fd)
    except (OSError, UnsafePath):
        return None


_STAMP = r"\d{8}-\d{6}-\d{9}"


def backup(session: Session, data: bytes) -> Path:
    """Keep the file as it was: ``X.ardour.bak`` (where Ardour keeps its own previous copy) and a
    timestamped copy under ``.resonant/backups`` that Ardour never touches. Rotation deletes only
    regular files named as the bridge names its backups of this snapshot."""
    mode = session.file.stat().st_mode & 0o777
    atomic_write(session.file.with_name(session.file.name + ".bak"), data, within=session.folder, mode=mode)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
    target = session.folder / BACKUP_DIR / f"{session.snapshot}-{stamp}.ardour"
    ours = re.compile(rf"^{re.escape(session.snapshot)}-{_STAMP}\.ardour$")
    with dir_of(target, session.folder) as dfd:
        write_at(dfd, target.name, data, mode)
        mine = []
        for name in os.listdir(dfd):
            if ours.match(name):
                try:
                    if stat.S_ISREG(os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode):
                        mine.append(name)
                except FileNotFoundError:
                    pass
        for stale in sorted(mine)[:-BACKUPS_KEPT]:
            try:
                os.unlink(stale, dir_fd=dfd)
            except FileNotFoundError:
                pass
    return target


class session_lock:  # noqa: N801 (used as a context manager, like a function)
    """An exclusive lock on a session folder (``.resonant/lock``, flock) held while the bridge
    writes it, so that two bridge processes (the daemon, ``resonant mcp`` over stdio, the CLI)
    never interleave a check-and-rename on the same session. Re-entrant within one thread (an edit
    holding it across read and commit calls helpers that take it too); other threads of the same
    process wait for it like other processes do (flock is per open file)."""

    _local = threading.local()

    def __init__(self, folder: Path, timeout_s: float = 30.0) -> None:
        self.folder = Path(folder)
        self.path = self.folder / ".resonant" / "lock"
        self.timeout_s = timeout_s
        self.fd: int | None = None
        self._key = os.path.realpath(self.folder)

    @classmethod
    def _held(cls) -> dict[str, int]:
        if not hasattr(cls._local, "held"):
            cls._local.held = {}
        return cls._local.held

    def __enter__(self) -> session_lock:
        import fcntl

        if self._key in self._held():
            self._held()[self._key] += 1
            return self
        with dir_of(self.path, self.folder) as dfd:
            try:
                self.fd = os.open("lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd)
            except OSError as e:
                if e.errno == errno.ELOOP:
                    raise UnsafePath(f"{self.path} is a symlink; remove it (the bridge makes its own lock)") from None
                raise
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._held()[self._key] = 1
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise SessionChangedOnDisk(
                        f"another bridge process has been writing {self.folder.name} for"
                        f" {self.timeout_s:g} s; try again") from None
                time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self.fd is None:
            if self._key in self._held():
                self._held()[self._key] -= 1
            return
        del self._held()[self._key]
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None
