"""Hearing harmony: which material is pitched, the key with how sure the reading is, and the chords
per half bar where the harmony moves.

- Pitched or not: a drum track (by role) never gives a key; audio without a role counts as pitched
  only if most of its energy is harmonic (stable over time) rather than percussive (short and spread
  over frequency), measured with median-filter harmonic/percussive separation on its spectrum.
- Key: Krumhansl-Kessler correlation over the song; below ``KEY_CONFIDENCE`` the key is unknown and
  the reason says how weak the best reading was. Relative keys (which share every note) are settled
  by the tonic triad the music rests on, in the bass and at the ends.
- Chords: per bar, and per half bar where each half is clearly its own chord (the harmony moving
  every two beats). Bars whose pitched energy is far below the song's (a pickup, a near-silent bar)
  carry no chord of their own. The bass (below 160 Hz) counts extra for the root: A-C-E over an A in
  the bass is Am, not C6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

from bridge.audio.features import ANALYSIS_RATE, CHROMA_FFT, CHROMA_HOP, _frames, stft_magnitudes
from bridge.music.theory import ALL_CHORDS, Chord, Key, chord_scores, key_scores

KEY_CONFIDENCE = 0.55  # a key correlation below this is "unknown"
PITCHED_SHARE = 0.5  # harmonic energy share above which untagged audio counts as pitched
QUIET_BAR = 0.12  # a bar with less than this share of the median bar's pitched energy has no chord
SPLIT_MARGIN = 0.04  # each half's own chord must beat the bar's chord by this much to split the bar
BASS_WEIGHT = 0.35  # how much the bass's pitch class counts for a chord's root
_EXCERPT_S = 40.0  # pitchedness is judged on up to this much of a track


def pitched_share(x12k: np.ndarray) -> float:
    """Share of a signal's energy (100-2000 Hz) that is harmonic rather than percussive (0..1)."""
    if x12k.size > _EXCERPT_S * ANALYSIS_RATE:
        # a spread of 4 excerpts of 10 s: representative and bounded
        n = int(10 * ANALYSIS_RATE)
        starts = np.linspace(0, x12k.size - n, 4).astype(int)
        x12k = np.concatenate([x12k[s:s + n] for s in starts])
    size = 2048
    frames = _frames(np.pad(x12k, (size // 2, size // 2)), size, size // 4)
    mag = np.abs(np.fft.rfft(frames * np.hanning(size), axis=1))
    freqs = np.fft.rfftfreq(size, 1.0 / ANALYSIS_RATE)
    mag = mag[:, (freqs >= 100) & (freqs <= 2000)]
    if mag.size == 0 or not mag.any():
        return 0.0
    harm = median_filter(mag, size=(17, 1), mode="nearest")  # stable over ~0.7 s
    perc = median_filter(mag, size=(1, 17), mode="nearest")  # spread over ~100 Hz
    h2, p2 = (harm ** 2).sum(), (perc ** 2).sum()
    return float(h2 / (h2 + p2)) if h2 + p2 > 0 else 0.0


@dataclass
class ChromaTrack:
    """Pitch-class energy per analysis frame of the pitched material, and of its bass band."""

    chroma: np.ndarray  # frames x 12
    bass: np.ndarray  # frames x 12
    frame_rate: float


def chroma_of(x12k: np.ndarray) -> ChromaTrack:
    freqs = np.fft.rfftfreq(CHROMA_FFT, 1.0 / ANALYSIS_RATE)

    def fold(mag: np.ndarray, lo: float, hi: float) -> np.ndarray:
        sel = (freqs >= lo) & (freqs <= hi)
        midi = 69 + 12 * np.log2(freqs[sel] / 440.0)
        pc = np.mod(np.round(midi), 12).astype(int)
        # only bins near a semitone centre count, so leakage between notes does not smear the profile
        power = mag[:, sel] ** 2 * (np.abs(midi - np.round(midi)) < 0.35)
        out = np.zeros((mag.shape[0], 12))
        for k in range(12):
            out[:, k] = power[:, pc == k].sum(axis=1)
        return np.sqrt(out)

    blocks = [(fold(m, 55.0, 2000.0), fold(m, 30.0, 160.0)) for m in stft_magnitudes(x12k, CHROMA_FFT, CHROMA_HOP)]
    return ChromaTrack(np.concatenate([c for c, _ in blocks]), np.concatenate([b for _, b in blocks]),
                       ANALYSIS_RATE / CHROMA_HOP)


def key_reading(total: np.ndarray, bar_chords: list[Chord | None], bass_total: np.ndarray | None = None
                ) -> tuple[Key | None, float, str]:
    """The key of a pitch-class profile (None when the reading is weak), its confidence (correlation),
    and why when it is unknown; ``best_key`` gives the reading itself."""
    key, r, why = best_key(total, bar_chords, bass_total)
    if key is not None and r < KEY_CONFIDENCE:
        return None, max(0.0, r), (f"no clear key: the best reading, {key.name}, has confidence {max(0.0, r):.2f}"
                                   f" (below {KEY_CONFIDENCE})")
    return key, r, why


def best_key(total: np.ndarray, bar_chords: list[Chord | None], bass_total: np.ndarray | None = None
             ) -> tuple[Key | None, float, str]:
    """The likeliest key of a pitch-class profile, however weak, and its correlation."""
    scores = key_scores(total)
    if not scores:
        return None, 0.0, "no pitched material"
    r, key = scores[0]
    rel = key.relative()
    rel_r = next(s for s, k in scores if k == rel)
    if r - rel_r < 0.15:
        # relative keys share every note: the one whose tonic triad the music rests on (more bars,
        # the first and last bar), and whose tonic the bass holds, is the key
        def weight(k: Key) -> float:
            tonic = k.tonic_chord
            hits = [i for i, c in enumerate(bar_chords) if c is not None and c.triad == tonic]
            heard = [i for i, c in enumerate(bar_chords) if c is not None]
            w = len(hits) + (0.75 if heard and heard[0] in hits else 0.0) + (0.5 if heard and heard[-1] in hits
                                                                                  else 0.0)
            if bass_total is not None and bass_total.sum() > 0:
                w += 2.0 * bass_total[k.tonic] / bass_total.sum()
            return w

        if weight(rel) > weight(key):
            key, r = rel, rel_r
    return key, r, ""


def _best(chroma: np.ndarray, bass: np.ndarray, key: Key | None) -> tuple[Chord | None, np.ndarray]:
    scores = chord_scores(chroma, key)
    if not scores.any():
        return None, scores
    if bass.sum() > 0:
        b = bass / bass.sum()
        scores = scores + BASS_WEIGHT * np.array([b[c.root] for c in ALL_CHORDS])
    return ALL_CHORDS[int(np.argmax(scores))], scores


def bar_chords(spans: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], key: Key | None
               ) -> list[tuple[list[Chord | None], float]]:
    """Per bar ``(first-half chroma, second-half chroma, first-half bass, second-half bass)``: the
    chord of the bar, or of each half where they clearly differ; none for a near-silent bar."""
    energy = np.array([a.sum() + b.sum() for a, b, _, _ in spans])
    typical = float(np.median(energy[energy > 0])) if (energy > 0).any() else 0.0
    out: list[tuple[list[Chord | None], float]] = []
    for (c1, c2, b1, b2), e in zip(spans, energy, strict=True):
        if typical <= 0 or e < QUIET_BAR * typical:
            out.append(([None], 0.0))
            continue
        whole, ws = _best(c1 + c2, b1 + b2, key)
        conf = float(ws.max()) if ws.size else 0.0
        first, s1 = _best(c1, b1, key)
        second, s2 = _best(c2, b2, key)
        idx = {c: i for i, c in enumerate(ALL_CHORDS)}
        halves_loud = min(c1.sum(), c2.sum()) > 0.25 * max(c1.sum(), c2.sum())
        # split only where each half is clearly its own chord, better than the other half's there
        if (first is not None and second is not None and first != second and halves_loud
                and s1[idx[first]] - s1[idx[second]] >= SPLIT_MARGIN
                and s2[idx[second]] - s2[idx[first]] >= SPLIT_MARGIN):
            out.append(([first, second], conf))
        else:
            out.append(([whole], conf))
    return out
