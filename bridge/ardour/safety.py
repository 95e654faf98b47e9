"""Keeping the user's session safe: is it open in Ardour, did it change, atomic writes, names.

Ardour takes no lock on a session (ardour-session-format.md §2.4): the only signs that it has
one open are a running Ardour process holding files inside the folder, and a ``.pending``
autosave. Ardour also never merges: its next save overwrites whatever we wrote. So the bridge
refuses to write while either sign is present, and checks the file did not change since it read it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bridge.ardour.model import Fingerprint, Session
from bridge.errors import (
    PendingStateExists,
    SessionChangedOnDisk,
    SessionOpenInArdour,
    UnsafeName,
    UnsafePath,
)

# Executable names of the programs that open sessions (GUI, headless, Lua, Mixbus).
_ARDOUR_EXE = re.compile(r"^(ardour|hardour|luasession|mixbus|ardour\d|ardour-\d|harrison)", re.I)
BACKUP_DIR = ".resonant/backups"
BACKUPS_KEPT = 20


@dataclass(slots=True)
class ArdourProcess:
    pid: int
    exe: str
    open_file: str


def _exe_names(pid: str) -> list[str]:
    names = []
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            names.append(f.read().strip())
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0", 1)[0].decode("utf-8", "replace")
        names.append(os.path.basename(argv0))
    except OSError:
        pass
    try:
        names.append(os.path.basename(os.readlink(f"/proc/{pid}/exe")))
    except OSError:
        pass
    return names


def ardour_processes_in(folder: Path) -> list[ArdourProcess]:
    """Running Ardour processes that hold a file inside ``folder`` (Linux /proc scan)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    root = os.path.realpath(folder)
    prefix = root.rstrip("/") + "/"
    found: list[ArdourProcess] = []
    me = str(os.getpid())
    for pid in os.listdir(proc):
        if not pid.isdigit() or pid == me:
            continue
        names = [n for n in _exe_names(pid) if _ARDOUR_EXE.match(n)]
        if not names:
            continue
        # a session opened from the command line, before Ardour holds any of its files open
        # (an empty session holds none at all)
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:]
        except OSError:
            args = []
        hit = next((a.decode(errors="replace") for a in args if a.startswith(b"/") and
                    (os.path.realpath(a).decode(errors="replace") + "/").startswith(prefix)), None)
        if hit is not None:
            found.append(ArdourProcess(int(pid), names[0], hit))
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            inner = os.readlink(f"/proc/{pid}/root").rstrip("/")
        except OSError:
            continue  # another user's process, or it just ended
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if inner and target.startswith(inner + "/"):
                # an Ardour in a chroot or container: its paths as it sees them, where the session
                # folder is bound at the same path (as Flatpak and the compatibility tests do)
                target = target[len(inner):]
            if target.startswith(prefix) or target == root:
                found.append(ArdourProcess(int(pid), names[0], target))
                break
    return found


def pending_file(session: Session) -> Path:
    return session.folder / f"{session.snapshot}.pending"


def check_writable(session: Session) -> None:
    """Raise unless writing ``session`` now cannot fight with Ardour or lose a change."""
    procs = ardour_processes_in(session.folder)
    if procs:
        p = procs[0]
        raise SessionOpenInArdour(
            f"session {session.name!r} is open in Ardour ({p.exe}, pid {p.pid}); the bridge never edits"
            " a session Ardour has open, because Ardour's next save would overwrite it."
            " Close the session, or deliver through the Ardour hook instead")
    pending = pending_file(session)
    if pending.exists():
        raise PendingStateExists(
            f"{pending.name} exists: Ardour has unsaved changes or crashed with this session open."
            " Open the session in Ardour and save it (or recover it) first; writing now could be"
            " undone by Ardour's crash recovery")
    check_unchanged(session)


def check_unchanged(session: Session) -> None:
    fp = session.fingerprint
    if fp is None:
        return
    try:
        st = session.file.stat()
        if st.st_size == fp.size and st.st_mtime_ns == fp.mtime_ns:
            return
        data = session.file.read_bytes()
    except OSError as e:
        raise SessionChangedOnDisk(f"{session.file} cannot be read any more: {e.strerror}") from None
    if Fingerprint.of(data, st).sha256 != fp.sha256:
        raise SessionChangedOnDisk(
            f"{session.file.name} changed on disk since the bridge read it (saved by Ardour or another"
            " tool); read it again and retry")


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


# -- names ------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME = 64


def check_track_name(name: str) -> str:
    """A track name Ardour can use as-is for its route, IO and port names (§10.2)."""
    if not isinstance(name, str) or not name.strip():
        raise UnsafeName("a track name must not be empty")
    if name != name.strip():
        raise UnsafeName(f"track name {name!r} starts or ends with white space")
    if len(name) > MAX_NAME:
        raise UnsafeName(f"track name {name[:20]!r}… is longer than {MAX_NAME} characters")
    if _CONTROL.search(name):
        raise UnsafeName(f"track name {name!r} contains control characters")
    if any(c in name for c in "/\\:"):
        raise UnsafeName(f"track name {name!r} contains '/', '\\' or ':', which Ardour uses in port names")
    if ".." in name or name.startswith("."):
        raise UnsafeName(f"track name {name!r} looks like a path ('..' or a leading '.')")
    return name


def file_stem_for(name: str) -> str:
    """A file-name-safe stem made from a track name."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "stem"
    return stem[:48]


def check_inside(path: Path, roots: list[Path]) -> Path:
    """``path`` resolved, and refused unless it lies inside one of ``roots`` (when any are set)."""
    resolved = Path(os.path.realpath(path))
    if not roots:
        return resolved
    for root in roots:
        r = Path(os.path.realpath(root))
        if resolved == r or r in resolved.parents:
            return resolved
    raise UnsafePath(f"{path} is outside the allowed session roots ({', '.join(map(str, roots))})")


def session_roots_from_env() -> list[Path]:
    """``RESONANT_SESSION_ROOTS``: folders (':'-separated) the bridge may read and write."""
    value = os.environ.get("RESONANT_SESSION_ROOTS", "")
    return [Path(p).expanduser() for p in value.split(":") if p]
