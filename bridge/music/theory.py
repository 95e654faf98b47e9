"""Pitch classes, keys and chords: what analysis and the part writers share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)

# Krumhansl-Kessler key profiles (probe-tone ratings), tonic first.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

# intervals above the root; the triad qualities are what analysis tells apart, the rest are what the
# part writers voice (extensions by style)
CHORD_QUALITIES = {
    "": (0, 4, 7), "m": (0, 3, 7), "dim": (0, 3, 6),
    "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "m7": (0, 3, 7, 10), "m7b5": (0, 3, 6, 10),
    "sus4": (0, 5, 7), "sus2": (0, 2, 7), "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9),
    "9": (0, 4, 7, 10, 14), "maj9": (0, 4, 7, 11, 14), "m9": (0, 3, 7, 10, 14), "5": (0, 7),
}
TRIADS = ("", "m", "dim")
_TRIAD_OF = {"": "", "m": "m", "dim": "dim", "7": "", "maj7": "", "m7": "m", "m7b5": "dim", "sus4": "",
             "sus2": "", "6": "", "m6": "m", "9": "", "maj9": "", "m9": "m", "5": ""}


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

    def degree_of(self, pc: int) -> int | None:
        """Scale degree (0-6) of a pitch class, or None when it is outside the scale."""
        try:
            return self.scale.index(pc % 12)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Chord:
    root: int
    quality: str  # a key of CHORD_QUALITIES

    @property
    def name(self) -> str:
        return NOTE_NAMES[self.root] + self.quality

    @property
    def intervals(self) -> tuple[int, ...]:
        return CHORD_QUALITIES[self.quality]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys((self.root + i) % 12 for i in self.intervals))

    @property
    def triad(self) -> Chord:
        """The major/minor/diminished triad this chord extends (what analysis compares)."""
        return Chord(self.root, _TRIAD_OF[self.quality])

    @property
    def third(self) -> int:
        return (self.root + (3 if _TRIAD_OF[self.quality] in ("m", "dim") else 4)) % 12

    @property
    def fifth(self) -> int:
        return (self.root + (6 if _TRIAD_OF[self.quality] == "dim" else 7)) % 12


ALL_CHORDS = [Chord(r, q) for q in TRIADS for r in range(12)]
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


def parse_chord(name: str) -> Chord:
    """``"Em7"`` -> Chord(4, "m7"); the longest quality suffix that fits wins."""
    name = name.strip()
    root_len = 2 if len(name) > 1 and name[1] in "#b♯♭" else 1
    root, quality = parse_note(name[:root_len]), name[root_len:]
    if quality not in CHORD_QUALITIES:
        raise ValueError(f"unknown chord quality {quality!r} in {name!r}")
    return Chord(root, quality)


def diatonic_chord(key: Key, degree: int, sevenths: bool = False) -> Chord:
    """The chord on a scale degree (0 = tonic): a triad, or its diatonic seventh chord."""
    scale = key.scale
    root, third, fifth = scale[degree % 7], scale[(degree + 2) % 7], scale[(degree + 4) % 7]
    i3, i5 = (third - root) % 12, (fifth - root) % 12
    quality = "" if (i3, i5) == (4, 7) else "m" if (i3, i5) == (3, 7) else "dim"
    if sevenths:
        i7 = (scale[(degree + 6) % 7] - root) % 12
        quality = {("", 11): "maj7", ("", 10): "7", ("m", 10): "m7", ("dim", 10): "m7b5"}.get((quality, i7), quality)
    return Chord(root, quality)


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


def chord_scores(chroma: np.ndarray, key: Key | None = None) -> np.ndarray:
    """Cosine match of a pitch-class profile with every triad of ``ALL_CHORDS``; chords of the key
    get a small bonus (ties favour the key)."""
    c = np.asarray(chroma, dtype=np.float64)
    norm = np.linalg.norm(c)
    if norm == 0 or not np.isfinite(norm):
        return np.zeros(len(ALL_CHORDS))
    scores = _TEMPLATES @ (c / norm) / np.linalg.norm(_TEMPLATES, axis=1)
    if key is not None:
        scale = set(key.scale)
        scores = scores + np.array([0.02 if set(ch.pitch_classes) <= scale else 0.0 for ch in ALL_CHORDS])
    return scores


def best_chord(chroma: np.ndarray, key: Key | None = None) -> tuple[Chord | None, float]:
    """The triad whose template best matches a pitch-class profile (cosine); ties favour the key."""
    scores = chord_scores(chroma, key)
    if not scores.any():
        return None, 0.0
    i = int(np.argmax(scores))
    return ALL_CHORDS[i], float(scores[i])
