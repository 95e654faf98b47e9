"""The feel of a performance: timing and dynamics a player would give the notes, by style.

Machines (techno, chiptune) stay on the grid; players drift a few milliseconds either way (bounded,
so nothing leaves its beat), lay the backbeat and the melody back where the style does (lo-fi), and
shape dynamics by where a note falls. Swing is not here: the plan's grid carries it, so every part
swings alike. Deterministic for a seed.
"""

from __future__ import annotations

import random

from bridge.music.parts.common import NoteEvent, clamp_vel
from bridge.music.plan import Plan

BACKBEAT = {38, 39, 40}  # snare, clap, electric snare


def humanise(notes: list[NoteEvent], plan: Plan, role: str, bpm: float) -> list[NoteEvent]:
    style = plan.style
    spread_q = style.timing_ms / 1000.0 * bpm / 60.0  # milliseconds -> quarters at this tempo
    late_q = style.laid_back_ms / 1000.0 * bpm / 60.0
    if spread_q <= 0 and late_q <= 0:
        return notes
    rng = random.Random(f"{plan.seed}:{role}:feel")
    out = []
    for n in notes:
        jitter = max(-1.0, min(1.0, rng.gauss(0.0, 0.5))) * spread_q
        if role == "drums":
            late = late_q if n.pitch in BACKBEAT else 0.0
        elif role == "melody":
            late = late_q
        else:
            late = 0.5 * late_q
        # chords move as one hand: the notes of one strike share their offset
        start = max(0.0, n.start + jitter + late) if n.start > 0 else n.start
        out.append(NoteEvent(start, n.duration, n.pitch, n.velocity, n.pan))
    if role == "harmony":
        by_onset: dict[float, float] = {}
        out = []
        for n in notes:
            if n.start not in by_onset:
                by_onset[n.start] = max(-1.0, min(1.0, rng.gauss(0.0, 0.5))) * spread_q + 0.5 * late_q
            start = max(0.0, n.start + by_onset[n.start]) if n.start > 0 else n.start
            out.append(NoteEvent(start, n.duration, n.pitch, clamp_vel(n.velocity), n.pan))
    return out
