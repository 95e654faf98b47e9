"""The stereo picture of a stem beyond what the SoundFont and the note pans give it.

A part rendered from mono samples is mono; a real recording of it is not. Above a crossover the
stem gets a little width from a decorrelated copy in the side channel (a few ms of delay, as a
double-tracked part or a room gives), while everything below stays in the middle: low end that is
mono keeps its punch and survives a mono fold-down. Drums keep the kit's own panning.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfilt

# side level (relative to mid) and delay per role; bass only a trace, above its fundamentals
WIDTH = {"bass": (0.16, 0.011, 250.0), "harmony": (0.22, 0.017, 180.0), "melody": (0.16, 0.013, 300.0)}


Width = tuple[float, float, float]  # side level, delay (s), crossover (Hz)


@lru_cache(maxsize=16)
def _highpass(crossover: float, rate: int) -> np.ndarray:
    return butter(2, crossover, "highpass", fs=rate, output="sos").astype(np.float32)


def widen(audio: np.ndarray, role: str | None, rate: int, width: Width | None = None) -> np.ndarray:
    """``audio`` (frames x 2) with width added for the role (or as ``width`` says); drums and silence
    come back as they are. The result is as long as the input: the side's delayed end is dropped."""
    width = width or WIDTH.get(role or "")
    if width is None or not audio.any():
        return audio
    amount, delay_s, crossover = width
    mid = (audio[:, 0] + audio[:, 1]) * np.float32(0.5 * amount)
    high = sosfilt(_highpass(crossover, rate), mid)
    d = max(1, int(delay_s * rate))
    out = audio.copy()
    out[d:, 0] += high[:-d]
    out[d:, 1] -= high[:-d]
    return out
