"""The inbox: how stems reach a session that Ardour has open, without touching its XML.

Ardour owns the session file while it has the session open (its next save overwrites whatever we
wrote), so the daemon drops the stems into ``<session>/.resonant/inbox/`` instead, and the Lua hook
inside Ardour (``daw_templates/scripts/resonant_inbox.lua``) imports them and acknowledges.

Layout, all written atomically (write to a temporary name, then rename):

- ``<job>/*.wav``        the stems, at the session rate, named so that Ardour's copy keeps the name
- ``<job>/*.mid``        the parts as MIDI (deliver midi/both), for MIDI tracks and takes
- ``<job>/*.template``   a new MIDI track as a route template (its synth's state beside it), which the
                         hook makes with ``Session:new_route_from_template`` before importing the notes
- ``<job>.json``         the manifest: job id, and per stem the track, role, position in samples and
                         bars, the file, the take (playlist) name, whether to make the track
- ``index``              the ids of manifests waiting, one per line: the hook reads this small file on
                         its timer instead of listing the folder (Ardour's Lua has no directory listing)
- ``<job>.ack``          written by the hook: ``ok``, ``partial`` or ``error`` on the first line, a line
                         for people, then per drop ``placed N TRACK TAKE SOURCE`` or ``failed N REASON``
                         (tab-separated, N from 1): what Ardour really made, which can differ from what
                         was asked (Ardour 8/9 turn '"' into '_' and name a new track's playlist NAME.1)

The hook also sends ``/resonant/ack job status detail`` over OSC, so the daemon usually learns at
once; the ack file is what counts when the daemon was restarted or the datagram was lost.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bridge.ardour.files import atomic_write, open_dir, read_within, session_lock
from bridge.ardour.names import file_stem_for
from bridge.errors import UnsafePath

INBOX_DIR = ".resonant/inbox"
MANIFEST_VERSION = 1


@dataclass
class Drop:
    """One stem for one track: where it goes and as what."""

    track: str
    role: str
    file: str  # absolute path inside the inbox
    position: int  # first sample on the session timeline
    first_bar: int
    last_bar: int
    take: str  # the name of the new playlist (take) or, for a new track, of its first playlist
    new_track: bool  # make the track (a generate into the session) or add a take (regenerate)
    channels: int
    frames: int
    color: int = 0  # a new track's colour (RGBA) by its role; 0 = Ardour's choice
    kind: str = "audio"  # "midi": a MIDI file onto a MIDI track
    template: str = ""  # a new MIDI track: its route template (absolute path inside the inbox)


def inbox_of(session_folder: Path) -> Path:
    return Path(session_folder) / INBOX_DIR


def _write_index(inbox: Path, ids: list[str]) -> None:
    atomic_write(inbox / "index", "".join(f"{i}\n" for i in ids).encode(), within=inbox.parent.parent, mode=0o644)


def waiting(inbox: Path) -> list[str]:
    """Job ids whose manifests wait for Ardour."""
    data = read_within(inbox.parent.parent, inbox / "index")
    if data is None:
        return []
    text = data.decode(errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


def drop_folder(session_folder: Path, job_id: str) -> Path:
    """Where a job's files wait, as an absolute path without symlinks (what Ardour is given)."""
    return Path(os.path.realpath(inbox_of(session_folder))) / job_id


def post(session_folder: Path, job_id: str, kind: str, stems: list[tuple[Path, Drop]],
         reply: str | None, files: dict[str, bytes] | None = None) -> Path:
    """Copy the stems into the inbox and publish the manifest; returns the manifest's path.

    ``stems`` pairs each rendered file (WAV, or MIDI for a MIDI drop) with where it goes (``Drop.file``
    is filled in here); ``files``: more files for the drops (route templates, plugin state), by their
    paths inside the job's folder. The manifest appears last, and the index after it, so the hook
    never sees a half-written drop.
    """
    inbox = inbox_of(session_folder)
    folder = inbox / job_id
    for rel, body in (files or {}).items():
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise UnsafePath(f"{rel}: a drop's file must stay inside its folder")
        atomic_write(folder / rel, body, within=session_folder, mode=0o644)
    drops = []
    for src, drop in stems:
        # job id in the name: Ardour copies the file under this name, and it must not collide
        ext = ".mid" if drop.kind == "midi" else ".wav"
        target = folder / f"{file_stem_for(drop.take)}-{job_id[:8]}{ext}"
        atomic_write(target, Path(src).read_bytes(), within=session_folder, mode=0o644)
        drop.file = str(Path(os.path.realpath(folder)) / target.name)
        drops.append(asdict(drop))
    manifest: dict[str, Any] = {"version": MANIFEST_VERSION, "job": job_id, "kind": kind,
                                "reply": reply or "", "drops": drops}
    path = inbox / f"{job_id}.json"
    with session_lock(session_folder):
        atomic_write(path, json.dumps(manifest, indent=1, ensure_ascii=True).encode(), within=session_folder,
                     mode=0o644)
        ids = waiting(inbox)
        if job_id not in ids:
            _write_index(inbox, [*ids, job_id])
    return path


def read_ack(session_folder: Path, job_id: str) -> dict[str, Any] | None:
    """The hook's answer, or None while there is none. A half-written file reads as none."""
    data = read_within(session_folder, inbox_of(session_folder) / f"{job_id}.ack")
    if data is None:
        return None
    lines = data.decode(errors="replace").split("\n")
    status = lines[0].strip()
    if status not in ("ok", "error", "partial") or len(lines) < 2:
        return None
    placed: dict[int, dict[str, str]] = {}
    failed: dict[int, str] = {}
    for line in lines[2:]:
        f = line.split("\t")
        if f[0] == "placed" and len(f) >= 4 and f[1].isdigit():
            placed[int(f[1]) - 1] = {"track": f[2], "take": f[3], "source": f[4] if len(f) > 4 else ""}
        elif f[0] == "failed" and len(f) >= 3 and f[1].isdigit():
            failed[int(f[1]) - 1] = f[2]
    return {"status": status, "detail": lines[1].strip(), "placed": placed, "failed": failed}


def withdraw(session_folder: Path, job_id: str, keep_files: bool = False) -> None:
    """Take a drop out of the index (and, unless ``keep_files``, delete its files: once Ardour has
    imported them it holds its own copies inside the session)."""
    inbox = inbox_of(session_folder)
    with session_lock(session_folder):
        ids = waiting(inbox)
        if job_id in ids:
            _write_index(inbox, [i for i in ids if i != job_id])
    if keep_files:
        return
    try:
        fd = open_dir(session_folder, INBOX_DIR)
    except (OSError, UnsafePath):
        return
    try:
        for name in (f"{job_id}.json", f"{job_id}.ack"):
            try:
                os.unlink(name, dir_fd=fd)
            except OSError:
                pass
        shutil.rmtree(job_id, ignore_errors=True, dir_fd=fd)
    finally:
        os.close(fd)
