"""Partner tracks: the audio and the MIDI track of one part (``Bass`` and ``Bass MIDI``), as
``--deliver both`` makes them. A regeneration of one can give the other a take of the same notes, and
neither is "another part" to the other when the song around a regeneration is read."""

from __future__ import annotations

from bridge.ardour.model import Session, Track
from bridge.errors import UnknownTrack

MIDI_SUFFIX = " MIDI"


def partner(session: Session, track: Track) -> Track | None:
    """The track of the other kind that carries the same part: ``Bass`` and ``Bass MIDI``."""
    if track.kind == "audio":
        want, kind = track.name + MIDI_SUFFIX, "midi"
    elif track.name.endswith(MIDI_SUFFIX):
        want, kind = track.name[: -len(MIDI_SUFFIX)], "audio"
    else:
        return None
    try:
        other = session.track(want)
    except UnknownTrack:
        return None
    return other if other.kind == kind and other.role == track.role else None
