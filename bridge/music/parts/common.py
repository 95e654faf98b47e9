"""What every part writer shares: the note event, pitch helpers, and velocity by beat strength."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NoteEvent:
    start: float  # quarters from the first bar
    duration: float
    pitch: int
    velocity: int
    pan: float = 0.0  # -1 left .. 1 right, inside the stem's stereo picture


def clamp_vel(v: float) -> int:
    return max(1, min(127, int(round(v))))


def in_range(pc: int, lo: int, hi: int, near: int) -> int:
    """The pitch of class ``pc`` within [lo, hi] closest to ``near``."""
    cands = [p for p in range(lo, hi + 1) if p % 12 == pc]
    return min(cands, key=lambda p: (abs(p - near), p)) if cands else lo + (pc - lo) % 12


def beat_weight(step: float, steps: int = 16) -> float:
    """How strong a 16th position of a 4/4 bar is: 1 downbeat, 0.8 beat 3, 0.7 beats, 0.5 8ths, 0.35 16ths."""
    s = int(round(step)) % steps
    if s == 0:
        return 1.0
    if s == steps // 2:
        return 0.85
    if s % 4 == 0:
        return 0.7
    if s % 2 == 0:
        return 0.5
    return 0.35


def section_energy(plan, bar: int) -> float:
    """The energy of bar index ``bar``: the request's energy shaped by its section, rising through a build."""
    sec, idx = plan.section(bar)
    e = 0.3 * plan.energy + 0.7 * sec.energy
    if sec.kind == "build" and sec.bars > 1:
        e += 0.25 * idx / (sec.bars - 1) - 0.1
    if sec.kind == "outro" and sec.bars > 1:
        e -= 0.2 * idx / (sec.bars - 1)
    return max(0.05, min(1.0, e))


def dynamics(energy: float) -> float:
    """Velocity scale for a section's energy: about 9 dB (SoundFont velocity curve) from a quiet
    intro (0.3) to a full chorus (0.9)."""
    return 0.38 + 0.7 * energy


BASS_RANGE = (26, 55)


def clamp_pitch(p: int, lo: int, hi: int) -> int:
    while p < lo:
        p += 12
    while p > hi:
        p -= 12
    return p
