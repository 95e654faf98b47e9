"""Test material with known answers: drums, bass and chords synthesised at a given tempo and key."""

from __future__ import annotations

import numpy as np

RATE = 48000
# i-VI-III-VII in F# minor: F#m, D, A, E (root MIDI note in octave 2, triad pitches)
FSHARP_MINOR_PROGRESSION = [("F#m", 42, (66, 69, 73)), ("D", 38, (62, 66, 69)), ("A", 45, (57, 61, 64)),
                            ("E", 40, (64, 68, 71))]


def hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _tone(freq: float, n: int, harmonics: int = 4, decay: float = 0.0) -> np.ndarray:
    t = np.arange(n) / RATE
    y = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, harmonics + 1))
    env = np.exp(-decay * t) if decay else np.ones(n)
    attack = np.minimum(1.0, np.arange(n) / (0.005 * RATE))
    return y * env * attack


def drums(bpm: float, bars: int, seed: int = 1) -> np.ndarray:
    """Kick on 1 and 3, snare on 2 and 4, closed hats on every 8th; mono."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm * RATE
    out = np.zeros(int(round(beat * 4 * bars)) + RATE)
    for b in range(bars * 4):
        at = int(round(b * beat))
        if b % 2 == 0:
            n = int(0.25 * RATE)
            t = np.arange(n) / RATE
            f = 50 + 70 * np.exp(-t * 40)
            out[at:at + n] += 0.9 * np.sin(2 * np.pi * np.cumsum(f) / RATE) * np.exp(-t * 12)
        else:
            n = int(0.15 * RATE)
            out[at:at + n] += 0.5 * rng.standard_normal(n) * np.exp(-np.arange(n) / RATE * 30)
        for half in (0, 1):
            h = int(round((b + half / 2) * beat))
            n = int(0.04 * RATE)
            noise = rng.standard_normal(n)
            out[h:h + n] += 0.15 * np.diff(noise, prepend=0.0) * np.exp(-np.arange(n) / RATE * 120)
    return out[: int(round(beat * 4 * bars))]


def bass_and_chords(bpm: float, bars: int, progression=FSHARP_MINOR_PROGRESSION) -> tuple[np.ndarray, np.ndarray]:
    """A bass line (roots in 8ths) and sustained triads, one chord per bar."""
    bar = 4 * 60.0 / bpm * RATE
    total = int(round(bar * bars))
    bass, keys = np.zeros(total), np.zeros(total)
    for i in range(bars):
        _, root, triad = progression[i % len(progression)]
        a, z = int(round(i * bar)), int(round((i + 1) * bar))
        eighth = (z - a) // 8
        for e in range(8):
            s = a + e * eighth
            bass[s:s + eighth] += 0.35 * _tone(hz(root), eighth, 3, decay=3.0)
        for p in triad:
            keys[a:z] += 0.12 * _tone(hz(p), z - a, 3)
    return bass, keys
