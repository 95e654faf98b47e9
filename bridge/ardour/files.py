"""Writing beside a session without ever leaving half a file: atomic writes (temp, fsync, rename),
backups the bridge keeps of every session file it replaces, and the lock that serialises bridge
processes writing one session."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from bridge.ardour.model import Session
from bridge.errors import SessionChangedOnDisk

BACKUP_DIR = ".resonant/backups"
BACKUPS_KEPT = 20


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


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".resonant-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def backup(session: Session, data: bytes) -> Path:
    """Keep the file as it was: ``X.ardour.bak`` (where Ardour keeps its own previous copy) and a
    timestamped copy under ``.resonant/backups`` that Ardour never touches."""
    atomic_write(session.file.with_name(session.file.name + ".bak"), data)
    folder = session.folder / BACKUP_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
    target = folder / f"{session.snapshot}-{stamp}.ardour"
    atomic_write(target, data)
    old = sorted(folder.glob(f"{session.snapshot}-*.ardour"))
    for stale in old[:-BACKUPS_KEPT]:
        stale.unlink(missing_ok=True)
    return target


class session_lock:  # noqa: N801 (used as a context manager, like a function)
    """An exclusive lock on a session folder (``.resonant/lock``, flock) held while the bridge
    writes it, so that two bridge processes (the daemon, ``resonant mcp`` over stdio, the CLI)
    never interleave a check-and-rename on the same session."""

    def __init__(self, folder: Path, timeout_s: float = 30.0) -> None:
        self.path = folder / ".resonant" / "lock"
        self.timeout_s = timeout_s
        self.fd: int | None = None

    def __enter__(self) -> session_lock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise SessionChangedOnDisk(
                        f"another bridge process has been writing {self.path.parent.parent.name} for"
                        f" {self.timeout_s:g} s; try again") from None
                time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
