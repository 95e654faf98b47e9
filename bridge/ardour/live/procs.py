"""Which running Ardour has a session open: a scan of ``/proc`` (Linux).

Ardour takes no lock on a session (ardour-session-format.md §2.4): the only sign that it has one
open is a running Ardour process holding files inside the folder, or naming the session on its
command line. An Ardour in a chroot or container is seen through its root.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# Executable names of the programs that open sessions (GUI, headless, Lua, Mixbus).
_ARDOUR_EXE = re.compile(r"^(ardour|hardour|luasession|mixbus|ardour\d|ardour-\d|harrison)", re.I)
# The GUI alone keeps Lua hooks and buttons (and rewrites ui_scripts when it saves): Debian's binary is
# ardour-7.3.0~ds0, a build's ardour7 or ardour-9.8; the tools (ardour7-lua, -export, ...) are not it
_GUI_EXE = re.compile(r"^(ardour-\d|ardour\d?$|mixbus)", re.I)


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


def ardour_guis() -> list[ArdourProcess]:
    """Running Ardour GUIs (whatever they have open): an Ardour that is running rewrites its ui_scripts
    when it saves, so the bridge's installer must not change that file under it."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    found = []
    for pid in os.listdir(proc):
        if pid.isdigit() and pid != str(os.getpid()):
            names = [n for n in _exe_names(pid) if _GUI_EXE.match(n)]
            if names:
                found.append(ArdourProcess(int(pid), names[0], ""))
    return found
