"""Pitch classes, keys and chords: just what analysis and the part writers need."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)

# Krumhansl-Kessler key profiles (probe-tone ratings), tonic first.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

CHORD_QUALITIES = {"": (0, 4, 7), "m": (0, 3, 7), "dim": (0, 3, 6)}


@dataclass(frozen=True, slots=True)
class Key:
    tonic: int  # pitch class
    mode: str  # "major" or "minor"

    @property
    def name(self) -> str:
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def scale(self) -> tuple[int, ...]:
        steps = MAJOR_SCALE if self.mode == "major" else MINOR_SCALE
        return tuple((self.tonic + s) % 12 for s in steps)

    @property
    def tonic_chord(self) -> Chord:
        return Chord(self.tonic, "" if self.mode == "major" else "m")

    def relative(self) -> Key:
        return Key((self.tonic + 9) % 12, "minor") if self.mode == "major" else Key((self.tonic + 3) % 12, "major")


@dataclass(frozen=True, slots=True)
class Chord:
    root: int
    quality: str  # "", "m", "dim"

    @property
    def name(self) -> str:
        return NOTE_NAMES[self.root] + self.quality

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + i) % 12 for i in CHORD_QUALITIES[self.quality])


ALL_CHORDS = [Chord(r, q) for q in CHORD_QUALITIES for r in range(12)]
_TEMPLATES = np.array([[1.0 if pc in c.pitch_classes else 0.0 for pc in range(12)] for c in ALL_CHORDS])
# a root slightly above the other chord tones, so that e.g. C-E-G-A (C6) still reads as C
_TEMPLATES += np.array([[0.15 if pc == c.root else 0.0 for pc in range(12)] for c in ALL_CHORDS])


def parse_note(name: str) -> int:
    name = name.strip().replace("♯", "#").replace("♭", "b")
    flats = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E"}
    name = flats.get(name[:2].capitalize(), name[:1].upper() + name[1:])
    if name not in NOTE_NAMES:
        raise ValueError(f"unknown note name {name!r}")
    return NOTE_NAMES.index(name)


def key_scores(chroma: np.ndarray) -> list[tuple[float, Key]]:
    """Correlation of a 12-bin pitch-class profile with every major and minor key, best first."""
    c = np.asarray(chroma, dtype=np.float64)
    if not np.isfinite(c).all() or c.std() == 0:
        return []
    out = []
    for tonic in range(12):
        for mode, prof in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
            r = float(np.corrcoef(c, np.roll(prof, tonic))[0, 1])
            out.append((r, Key(tonic, mode)))
    return sorted(out, key=lambda x: -x[0])


def best_chord(chroma: np.ndarray, key: Key | None = None) -> tuple[Chord | None, float]:
    """The triad whose template best matches a pitch-class profile (cosine); ties favour the key."""
    c = np.asarray(chroma, dtype=np.float64)
    norm = np.linalg.norm(c)
    if norm == 0 or not np.isfinite(norm):
        return None, 0.0
    scores = _TEMPLATES @ (c / norm) / np.linalg.norm(_TEMPLATES, axis=1)
    if key is not None:
        scale = set(key.scale)
        scores = scores + np.array([0.02 if set(ch.pitch_classes) <= scale else 0.0 for ch in ALL_CHORDS])
    i = int(np.argmax(scores))
    return ALL_CHORDS[i], float(scores[i])
