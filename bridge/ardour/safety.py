"""Keeping the user's session safe: never write a session Ardour has open or has unsaved changes
for, and never overwrite a change made since the bridge read the file.

Ardour takes no lock on a session (ardour-session-format.md §2.4) and never merges: its next save
overwrites whatever we wrote. So the bridge refuses to write while Ardour has the session open or a
``.pending`` autosave exists, and checks the file did not change since it read it.
"""

from __future__ import annotations

from pathlib import Path

from bridge.ardour.live.procs import ardour_processes_in
from bridge.ardour.model import Fingerprint, Session
from bridge.errors import PendingStateExists, SessionChangedOnDisk, SessionOpenInArdour


def pending_file(session: Session) -> Path:
    return session.folder / f"{session.snapshot}.pending"


def check_writable(session: Session, unchanged: bool = True) -> None:
    """Raise unless writing ``session`` now cannot fight with Ardour or lose a change (``unchanged``:
    also that the file is still the one read)."""
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
    if unchanged:
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
