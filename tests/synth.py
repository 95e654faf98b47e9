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


# -- scores with known answers: chords (per half bar where they move), a bass, a melody ---------------

def parse_chord_name(name: str) -> tuple[int, tuple[int, ...]]:
    """"F#m" -> (6, (0, 3, 7)); "C" -> (0, (0, 4, 7))."""
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    root_len = 2 if len(name) > 1 and name[1] == "#" else 1
    root = names.index(name[:root_len])
    return root, (0, 3, 7) if name[root_len:] == "m" else (0, 4, 7)


def render_score(bpm: float, grid: list[list[str | None]], melody: list[tuple[float, float, int]] = (),
                 bass: bool = True, quiet_bars: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
    """Audio for a score: ``grid`` is the chords per bar (one name, or two for the halves; None = no
    chord), played as sustained triads (Keys) over roots in the bass (Bass); ``melody`` is
    (start beat, length in beats, MIDI pitch) from the first bar (Lead). Bars in ``quiet_bars`` (0-based)
    hold only what the melody plays there (a pickup)."""
    beat = 60.0 / bpm * RATE
    total = int(round(beat * 4 * len(grid)))
    keys, low, lead = np.zeros(total), np.zeros(total), np.zeros(total)
    for i, row in enumerate(grid):
        if i in quiet_bars:
            continue
        for h, name in enumerate(row):
            if name is None:
                continue
            span = 4.0 / len(row)
            a = int(round((i * 4 + h * span) * beat))
            z = int(round((i * 4 + (h + 1) * span) * beat))
            root, shape = parse_chord_name(name)
            for iv in shape:
                keys[a:z] += 0.1 * _tone(hz(60 + (root + iv) % 12), z - a, 3)
            if bass:
                eighth = max(1, (z - a) // int(2 * span))
                for e in range(int(2 * span)):
                    s = a + e * eighth
                    low[s:s + eighth] += 0.3 * _tone(hz(36 + root), min(eighth, z - s), 3, decay=3.0)
    for start, length, pitch in melody:
        a, z = int(round(start * beat)), int(round((start + length) * beat))
        lead[a:z] += 0.12 * _tone(hz(pitch), z - a, 4, decay=1.0)
    return {"Keys": keys, "Bass": low, "Lead": lead}
