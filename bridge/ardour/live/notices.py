"""Notices: the daemon's answers to a request made from inside Ardour, where Ardour can read them.

An action button in Ardour sends its request over OSC with a request id, but Ardour's Lua cannot
receive OSC: the answer would go to a throwaway port. So the daemon writes the answer as a small file
beside the session. The action waits a few seconds for the first notice (none: it says the daemon
is not answering), then shows the request's progress, a short confirmation when the take lands, or
a dialog for an error; its Cancel button cancels the job. A request nobody watches any more is
shown by the bridge's hook (``daw_templates/scripts/resonant_inbox.lua``) when it ends.

Layout, in ``<session>/.resonant/notices/``, every file replaced atomically:

- ``<request>``       state (``received``, ``queued``, ``running``, ``done``, ``error``), progress 0..1,
                      a title and the job id (empty before there is one), one line each, then the
                      message (the rest of the file)
- ``index``           the requests with a notice, one per line (Lua has no directory listing)
- ``<request>.watch`` written by the action while it shows the request's progress itself
- ``<request>.seen``  written once a final state was shown (by the action, else by the hook), so that
                      an Ardour restarted meanwhile does not show it again
- ``../locks``        (``.resonant/locks``) the tracks' lock state, ``name<TAB>role<TAB>0|1`` per
                      line: the hook shows the locked tracks in Ardour (the tab of a "Locked" group)
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bridge.ardour.files import atomic_write, open_dir, read_within
from bridge.errors import InvalidInput, UnsafePath

NOTICES_DIR = ".resonant/notices"
LOCKS_FILE = ".resonant/locks"
FINAL = ("done", "error")
STATES = ("received", "queued", "running", *FINAL)
KEEP_S = 600.0  # a final notice stays this long (its button or the hook shows it within 100 ms)
KEEP_MAX = 32
_REQUEST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,47}$")
_lock = threading.Lock()  # one writer of the index per daemon


def check_request(request: str) -> str:
    if not isinstance(request, str) or not _REQUEST.match(request):
        raise InvalidInput("request id: 1-48 letters, digits and '-' (the Ardour action makes one)")
    return request


@dataclass(frozen=True)
class Notice:
    state: str
    progress: float
    title: str
    message: str
    job: str = ""

    def encode(self) -> bytes:
        title = " ".join(self.title.split())[:200]
        return (f"{self.state}\n{max(0.0, min(1.0, self.progress)):.3f}\n{title}\n{self.job}\n"
                f"{self.message[:4000]}\n").encode()

    @classmethod
    def decode(cls, data: bytes) -> Notice | None:
        lines = data.decode(errors="replace").split("\n", 4)
        if len(lines) < 5 or lines[0] not in STATES:
            return None
        try:
            progress = float(lines[1])
        except ValueError:
            return None
        return cls(lines[0], progress, lines[2], lines[4].rstrip("\n"), lines[3])


def folder_of(session_folder: Path) -> Path:
    return Path(session_folder) / NOTICES_DIR


def read(session_folder: Path, request: str) -> Notice | None:
    data = read_within(Path(session_folder), folder_of(session_folder) / request, 1 << 16)
    return Notice.decode(data) if data is not None else None


def listed(session_folder: Path) -> list[str]:
    data = read_within(Path(session_folder), folder_of(session_folder) / "index", 1 << 16)
    return [x for x in (data or b"").decode(errors="replace").split() if _REQUEST.match(x)]


def write(session_folder: Path, request: str, notice: Notice) -> None:
    """Publish ``notice`` for ``request`` (file first, then the index). The index is pruned of old final
    notices when a request joins it or ends, not at every progress step of a running one."""
    folder = Path(session_folder)
    notes = folder_of(folder)
    check_request(request)
    with _lock:
        atomic_write(notes / request, notice.encode(), within=folder, mode=0o644)
        listed_now = listed(folder)
        if request in listed_now and notice.state not in FINAL:
            return
        ids = [i for i in listed_now if i != request]
        keep, drop = [], []
        now = time.time()
        for i in ids:
            old = read(folder, i)
            try:
                age = now - os.stat(notes / i, follow_symlinks=False).st_mtime
            except OSError:
                age = KEEP_S + 1
            (drop if old is None or (old.state in FINAL and age > KEEP_S) else keep).append(i)
        while len(keep) >= KEEP_MAX:
            drop.append(keep.pop(0))
        atomic_write(notes / "index", "".join(f"{i}\n" for i in [*keep, request]).encode(), within=folder,
                     mode=0o644)
        _remove(folder, drop)


def _remove(folder: Path, requests: list[str]) -> None:
    if not requests:
        return
    try:
        fd = open_dir(folder, NOTICES_DIR)
    except (OSError, UnsafePath):
        return
    try:
        for r in requests:
            for name in (r, f"{r}.seen", f"{r}.watch"):
                try:
                    os.unlink(name, dir_fd=fd)
                except OSError:
                    pass
    finally:
        os.close(fd)


def write_locks(session_folder: Path, tracks: list[tuple[str, str, bool]]) -> None:
    """The lock state of every track (name, role, locked) for the hook to show in Ardour."""
    lines = "".join(f"{n.replace(chr(9), ' ').replace(chr(10), ' ')}\t{r}\t{int(lk)}\n" for n, r, lk in tracks)
    atomic_write(Path(session_folder) / LOCKS_FILE, lines.encode(), within=Path(session_folder), mode=0o644)
