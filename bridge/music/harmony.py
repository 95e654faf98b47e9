"""The chords of a song: a progression per section kind (verses share one, every chorus plays the
same one), a harmonic rhythm by style (a chord per bar, per two bars, or two per bar at turnarounds
and where the locked music moves), cadences into new sections, and extensions by style.

The grid is per bar: a list of one chord (the whole bar) or two (its halves).
"""

from __future__ import annotations

import random

from bridge.music.form import Form
from bridge.music.styles import Style
from bridge.music.theory import Chord, Key, diatonic_chord

# progressions as scale degrees (0 = tonic), four chords each; none leans on the diminished triad
_MINOR = {
    "verse": [[0, 5, 2, 6], [0, 3, 0, 6], [0, 6, 5, 6], [0, 5, 3, 4], [0, 3, 5, 6]],
    "chorus": [[5, 6, 0, 0], [5, 2, 6, 0], [3, 5, 6, 0], [5, 6, 2, 0], [0, 5, 2, 6]],
    "bridge": [[3, 4, 5, 6], [5, 6, 2, 2], [3, 0, 5, 6]],
}
_MAJOR = {
    "verse": [[0, 4, 5, 3], [0, 5, 3, 4], [0, 3, 0, 4], [0, 3, 5, 4], [0, 2, 3, 4]],
    "chorus": [[3, 0, 4, 5], [5, 3, 0, 4], [3, 4, 0, 5], [0, 4, 5, 3], [3, 4, 2, 5]],
    "bridge": [[5, 3, 1, 4], [1, 4, 0, 5], [3, 2, 1, 4]],
}
_JAZZ = {
    "major": {"verse": [[0, 5, 1, 4], [1, 4, 0, 5], [0, 2, 1, 4]], "chorus": [[3, 2, 1, 4], [2, 5, 1, 4]],
              "bridge": [[3, 6, 2, 5], [1, 4, 0, 0]]},
    "minor": {"verse": [[0, 3, 6, 2], [3, 6, 2, 5]], "chorus": [[5, 1, 4, 0], [3, 6, 2, 0]],
              "bridge": [[2, 5, 1, 4], [5, 6, 0, 0]]},
}
_FAMILY = {"intro": "verse", "verse": "verse", "pre": "bridge", "chorus": "chorus", "bridge": "bridge",
           "solo": "verse", "outro": "chorus", "build": "verse", "drop": "chorus", "break": "bridge"}


def _extend(chord: Chord, style: Style, complexity: float) -> Chord:
    """The chord with the extensions the style uses (more of them with complexity)."""
    tri = chord.triad.quality
    if style.extensions == "power":
        return Chord(chord.root, "5")
    if style.extensions == "triads" or complexity < 0.2:
        return chord.triad
    if style.extensions == "sevenths" or complexity < 0.5:
        return chord
    # ninths: a ninth on top where it is diatonic-sounding (major/minor sevenths), sevenths elsewhere
    return Chord(chord.root, {"maj7": "maj9", "m7": "m9", "7": "9"}.get(chord.quality, chord.quality)) \
        if tri != "dim" else chord


def progression(kind: str, key: Key, style: Style, rng: random.Random) -> list[int]:
    table = (_JAZZ[key.mode] if style.name == "jazz" else _MINOR if key.mode == "minor" else _MAJOR)
    return list(rng.choice(table[_FAMILY[kind]]))


def song_grid(form: Form, key: Key, style: Style, *, seed: int, complexity: float, temperature: float,
              total_bars: int) -> list[list[Chord]]:
    """Chords for every bar of the song (index 0 = bar 1)."""
    rng = random.Random(f"{seed}:harmony")
    sevenths = style.extensions != "triads"
    chosen: dict[str, list[int]] = {}
    for s in form.sections:
        fam = _FAMILY[s.kind]
        if fam not in chosen:
            degrees = progression(s.kind, key, style, rng)
            # adventurous: a chord or two borrowed from elsewhere in the key
            if temperature > 0.6:
                degrees = [d if rng.random() > (temperature - 0.5) * 0.6 else rng.choice([1, 2, 3, 4, 5])
                           for d in degrees]
            chosen[fam] = degrees
    grid: list[list[Chord]] = []
    for bar in range(1, total_bars + 1):
        s = form.at(bar)
        idx = bar - s.first_bar
        degrees = chosen[_FAMILY[s.kind]]
        if s.kind == "intro" and style.name in ("techno", "house", "trap", "drum and bass"):
            degrees = [degrees[0]] * 4  # a club intro sits on one chord
        if s.kind == "break" and style.chord_bars > 1:
            degrees = degrees[:2] * 2
        slot = (idx // style.chord_bars) % len(degrees)
        chord = diatonic_chord(key, degrees[slot], sevenths)
        if chord.triad.quality == "dim":  # as a loop chord it rarely sounds right: its relative instead
            chord = diatonic_chord(key, (degrees[slot] + 2) % 7, sevenths)
        bars = [_extend(chord, style, complexity)]
        phrase_end = (idx % 4 == 3) or bar == s.last_bar
        leads_on = bar == s.last_bar and bar < total_bars and form.at(bar + 1).kind in ("chorus", "drop")
        if style.half_bar_turnarounds and phrase_end and complexity >= 0.25:
            # the second half turns around: the dominant into a chorus, else the next phrase's approach
            nxt_degree = 4 if leads_on or key.mode == "major" else 6
            if nxt_degree != degrees[slot]:
                approach = diatonic_chord(key, nxt_degree, sevenths)
                if approach.triad.quality != "dim":
                    bars.append(_extend(approach, style, complexity))
        grid.append(bars)
    return grid


def chord_at(grid: list[list[Chord]], bar_index: int, fraction: float) -> Chord:
    """The chord sounding ``fraction`` (0..1) into the bar at ``bar_index`` of ``grid``."""
    row = grid[min(max(bar_index, 0), len(grid) - 1)]
    return row[min(len(row) - 1, int(fraction * len(row)))]
