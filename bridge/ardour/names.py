"""Names: what the bridge accepts as a track name, file stems made from names, and what each Ardour
major does to the names the bridge gives it, so that the bridge predicts them.

Seen with Ardour 7.3, 8.12 and 9.8 (ardour-in-tests.md): a new track's first playlist is ``NAME`` in
7 and ``NAME.1`` in 8 and 9 (``NAME`` again when they had to rename the track); a ``"`` in a route
name becomes ``_`` in 8 and 9 (when a track is made, and when a session is loaded). The rules follow
the Ardour that last wrote the session (``<ProgramVersion modified-with=...>``), since that is the one
the user opens it with.
"""

from __future__ import annotations

import re

from bridge.ardour.model import Session
from bridge.errors import UnsafeName

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


def first_playlist_name(asked: str, major: int) -> str:
    """The name of the first playlist of a new track asked to be called ``asked``, in Ardour ``major``.

    8 and 9 make ``NAME.1``; when they rename the route (a ``"``), the renamed route's only playlist
    follows its new name, without ``.1`` (seen in 8.12 and 9.8).
    """
    if major < 8:
        return asked
    made = route_name(asked, major)
    return made if made != asked else f"{asked}.1"


# -- what the bridge accepts as a name --------------------------------------------------------------

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
