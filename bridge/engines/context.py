"""Building what an engine must fit from a session: its tempo map and the locked tracks' analysis
over the bars being written."""

from __future__ import annotations

from bridge.ardour.model import Session
from bridge.audio.analysis import analyze
from bridge.audio.midi import track_notes
from bridge.engines.base import GenerationContext, GenerationRequest


def context_for(session: Session, request: GenerationRequest) -> GenerationContext:
    """Every locked track is what the new parts must fit (a locked track is never rewritten)."""
    locked = session.locked_tracks()
    musical = analyze(session, locked, (request.first_bar, request.last_bar)) if locked else None
    pitches = [n.pitch for t in locked if t.kind == "midi" and t.role != "drums" for n in track_notes(session, t)]
    return GenerationContext(session.tempo_map, musical, [t.role or "other" for t in locked], pitches,
                             source="session")
