"""What each Ardour major does to the names the bridge gives it, so that the bridge predicts them.

Seen with Ardour 7.3, 8.12 and 9.8 (ardour-in-tests.md): a new track's first playlist is ``NAME`` in
7 and ``NAME.1`` in 8 and 9; a ``"`` in a route name becomes ``_`` in 8 and 9 (when a track is made,
and when a session is loaded). The rules follow the Ardour that last wrote the session
(``<ProgramVersion modified-with=...>``), since that is the one the user opens it with.
"""

from __future__ import annotations

import re

from bridge.ardour.model import Session

OLDEST_RULES = 7  # sessions from Ardour 6 and older behave as 7 does here


def program_major(program_version: str) -> int | None:
    """``"Ardour 8.12.0~ds-1"`` -> 8; None when the text names no version."""
    m = re.search(r"(\d+)\.\d+", program_version or "")
    return int(m.group(1)) if m else None


def session_major(session: Session) -> int:
    return max(OLDEST_RULES, program_major(session.program_version) or OLDEST_RULES)


def route_name(name: str, major: int) -> str:
    """The name Ardour ``major`` gives a route asked to be called ``name``."""
    return name.replace('"', "_") if major >= 8 else name


def first_playlist_name(track: str, major: int) -> str:
    """The name of a new track's first playlist in Ardour ``major``."""
    return track if major < 8 else f"{track}.1"
