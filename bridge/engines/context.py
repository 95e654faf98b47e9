"""Building what an engine must fit from a session: its tempo map and the locked tracks' analysis
over the bars being written."""

from __future__ import annotations

import numpy as np

from bridge.ardour.model import Session
from bridge.audio.analysis import analyze
from bridge.audio.midi import track_notes
from bridge.audio.mixdown import render
from bridge.engines.base import GenerationContext, GenerationRequest


def context_for(session: Session, request: GenerationRequest) -> GenerationContext:
    """Every locked track is what the new parts must fit (a locked track is never rewritten)."""
    locked = session.locked_tracks()
    musical = analyze(session, locked, (request.first_bar, request.last_bar)) if locked else None
    pitches = [n.pitch for t in locked if t.kind == "midi" and t.role != "drums" for n in track_notes(session, t)]
    audio_tracks = [t for t in locked if t.kind == "audio"]

    def locked_audio(start: int, end: int) -> np.ndarray:
        """Rendered on demand: the arranger never asks, an audio model asks once or twice."""
        out = np.zeros((max(0, end - start), 2), dtype=np.float32)
        lo = max(0, start)
        if end > lo:
            out[lo - start:] = render(session, audio_tracks, lo, end)
        return out

    return GenerationContext(session.tempo_map, musical, [t.role or "other" for t in locked], pitches,
                             source="session", locked_audio=locked_audio if audio_tracks else None)
