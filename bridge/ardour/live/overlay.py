"""Roles and locks set while Ardour has the session open.

The bridge keeps a track's role and lock in the session XML (``<Extra><Resonant>`` of the Route),
but never writes the XML while Ardour has the session open: Ardour's next save would undo it. Then
the change goes to ``<session>/.resonant/tracks.json`` instead, keyed by the route's id (stable
across renames), and reading the session applies it on top of the XML. A later change made while the
session is closed writes the XML and drops the track's entry here, so there is one truth per track.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bridge.ardour.files import atomic_write, read_within, session_lock
from bridge.ardour.model import Session
from bridge.roles import ROLES

OVERLAY = ".resonant/tracks.json"


def load(folder: Path) -> dict[str, dict[str, Any]]:
    raw = read_within(Path(folder), Path(folder) / OVERLAY, 16 << 20)
    try:
        data = json.loads(raw) if raw is not None else None
    except ValueError:
        data = None  # none, or unreadable: the XML alone is the truth
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def apply(session: Session) -> None:
    entries = load(session.folder)
    for t in session.tracks:
        e = entries.get(t.id)
        if e is None:
            continue
        if "locked" in e and isinstance(e["locked"], bool):
            t.locked = e["locked"]
        if "role" in e and (e["role"] is None or e["role"] in ROLES):
            t.role, t.role_guessed = e["role"], False


def _write(folder: Path, entries: dict[str, dict[str, Any]]) -> None:
    # 0644: Ardour's Lua actions read it to show which tracks are locked
    atomic_write(Path(folder) / OVERLAY, json.dumps(entries, indent=1, sort_keys=True).encode(), within=Path(folder),
                 mode=0o644)


def set_entries(folder: Path, changes: dict[str, dict[str, Any]]) -> None:
    with session_lock(folder):
        entries = load(folder)
        for rid, change in changes.items():
            entries.setdefault(rid, {}).update(change)
        _write(folder, entries)


def drop(folder: Path, route_ids: list[str]) -> None:
    if not (Path(folder) / OVERLAY).exists():
        return
    with session_lock(folder):
        entries = load(folder)
        if any(rid in entries for rid in route_ids):
            _write(folder, {k: v for k, v in entries.items() if k not in route_ids})
