"""The model of an Ardour session: read a .ardour file, change it safely, write it back."""

from bridge.ardour.model import Bus, Curve, Fade, Playlist, Region, Session, Source, Track
from bridge.ardour.reader import find_session_file, read_session
from bridge.ardour.tempo import Meter, Tempo, TempoMap
from bridge.ardour.writer import Clip, SessionEditor, WriteResult

__all__ = [
    "Bus", "Clip", "Curve", "Fade", "Meter", "Playlist", "Region", "Session", "SessionEditor", "Source",
    "Tempo", "TempoMap", "Track", "WriteResult", "find_session_file", "read_session",
]
