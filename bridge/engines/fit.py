"""Fitting what an engine made to what the session asks for: the session's rate, the exact number
of samples of the bar range, stereo, the loudness asked for; and joining regenerated bars into the
previous take."""

from __future__ import annotations

from math import gcd

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt

from bridge.audio.features import integrated_loudness
from bridge.audio.loudness import normalise
from bridge.engines.base import GenerationRequest, PreviousTake

CROSSFADE_S = 0.010
EDGE_FADE_S = 0.003  # a cut at the end of a generated range would click
DC_CUTOFF_HZ = 10.0  # neural codecs leave a DC offset; it eats headroom and thumps at region edges


def fit(audio: np.ndarray, rate: int, target_rate: int, frames: int, remove_dc: bool = False) -> np.ndarray:
    """``audio`` (channels x samples at ``rate``) as exactly ``frames`` x 2 float32 at ``target_rate``:
    resampled (polyphase), cut or zero-padded at the end with a short fade, mono doubled to stereo.
    With ``remove_dc``, a zero-phase high-pass far below music takes any DC offset out first."""
    x = np.asarray(audio, dtype=np.float64)
    x = x[None, :] if x.ndim == 1 else x
    if remove_dc and x.shape[1] > 64:
        x = sosfiltfilt(butter(2, DC_CUTOFF_HZ, "highpass", fs=rate, output="sos"), x, axis=1)
    if rate != target_rate:
        g = gcd(int(rate), int(target_rate))
        x = resample_poly(x, target_rate // g, rate // g, axis=1)
    x = x[:2] if x.shape[0] >= 2 else np.repeat(x[:1], 2, axis=0)
    out = np.zeros((frames, 2), dtype=np.float32)
    n = min(frames, x.shape[1])
    out[:n] = x[:, :n].T
    fade = min(int(EDGE_FADE_S * target_rate), n)
    if fade:
        out[n - fade:n] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return out


def finish(audio: np.ndarray, role: str, request: GenerationRequest, start: int,
           rate: int, gain_db: float = 0.0) -> tuple[np.ndarray, int, float, float]:
    """A role's stem as delivered: normalised (to the request's level, or when regenerating to the
    level the previous take has over the same bars, so the new bars sit where the old ones did; its
    whole level where those bars are new), plus ``gain_db`` (a "louder" in the prompt), under the
    true-peak ceiling, and joined into the previous take when there is one. Returns the audio, its
    first sample on the timeline, its loudness and its true peak."""
    prev = request.previous.get(role)
    target = request.loudness_lufs
    if prev is not None:
        a, b = max(0, start - prev.start), min(prev.audio.shape[0], start - prev.start + audio.shape[0])
        same_bars = integrated_loudness(prev.audio[a:b], rate) if b - a > int(0.4 * rate) else None
        target = same_bars or integrated_loudness(prev.audio, rate) or target
    target = max(-60.0, min(-6.0, target + gain_db))
    audio, lufs, tp = normalise(audio, rate, target, request.true_peak_db)
    if prev is None:
        return audio, start, lufs, tp
    audio, first = inpaint(prev, audio, start, rate)
    return audio, first, integrated_loudness(audio, rate) or lufs, tp


def inpaint(prev: PreviousTake, new: np.ndarray, new_start: int, rate: int) -> tuple[np.ndarray, int]:
    """The previous take with ``new`` in place from ``new_start``, joined by short crossfades."""
    start = min(prev.start, new_start)
    end = max(prev.start + prev.audio.shape[0], new_start + new.shape[0])
    out = np.zeros((end - start, 2), dtype=np.float32)
    a = prev.start - start
    out[a:a + prev.audio.shape[0]] = prev.audio
    b = new_start - start
    n = new.shape[0]
    fade = min(int(CROSSFADE_S * rate), n // 2)
    w = np.ones(n, dtype=np.float32)
    has_before = prev.start < new_start
    has_after = prev.start + prev.audio.shape[0] > new_start + n
    if fade > 0 and has_before:
        w[:fade] = np.linspace(0.0, 1.0, fade, endpoint=False, dtype=np.float32)
    if fade > 0 and has_after:
        w[n - fade:] = np.minimum(w[n - fade:], np.linspace(1.0, 0.0, fade, dtype=np.float32))
    out[b:b + n] = out[b:b + n] * (1.0 - w[:, None]) + new * w[:, None]
    return out, start
