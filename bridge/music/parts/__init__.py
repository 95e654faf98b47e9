"""Part writers, one per role: each turns a ``Plan`` into notes (quarters from the first bar)."""

from bridge.music.parts.bass import write_bass
from bridge.music.parts.common import NoteEvent
from bridge.music.parts.comping import write_harmony
from bridge.music.parts.drums import write_drums
from bridge.music.parts.melody import write_melody

WRITERS = {"drums": write_drums, "bass": write_bass, "harmony": write_harmony, "melody": write_melody}

__all__ = ["WRITERS", "NoteEvent", "write_bass", "write_drums", "write_harmony", "write_melody"]
