"""Loudness normalisation (ITU-R BS.1770 via pyloudnorm) with a true-peak ceiling.

True peak is measured on a 4x oversampled signal (BS.1770-4 Annex 2). When the gain that
reaches the loudness target would push true peak over the ceiling, a look-ahead peak limiter
takes the excess off, and the loudness is re-measured and re-targeted.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

from bridge.audio.features import gated_loudness, integrated_loudness, k_weighted
from bridge.errors import BridgeError

OVERSAMPLE = 4
TP_MARGIN = 0.25  # dB kept below the ceiling for what the 16-tap interpolator may under-read


class SilentStem(BridgeError):
    code = "silent_stem"


_TAPS = 16  # per phase (BS.1770-4 Annex 2 suggests 12); under-reads 4x peaks by at most ~0.2 dB near Nyquist


def _phase_kernels() -> np.ndarray:
    half = _TAPS // 2
    out = []
    for k in range(1, OVERSAMPLE):
        frac = k / OVERSAMPLE
        n = np.arange(-half + 1, half + 1) - frac  # sample offsets around the interpolated point
        h = np.sinc(n) * np.cos(np.pi * n / (_TAPS + 1)) ** 2  # windowed sinc
        out.append(h / h.sum())
    return np.array(out)


_KERNELS = _phase_kernels()


_L1 = float(np.abs(_KERNELS).sum(axis=1).max())  # bound on |interpolated| / max|neighbours|


def _absmax_rows(m: np.ndarray) -> np.ndarray:
    """max(|m|) along axis 1 for a few columns; numpy's axis-1 reduce is slow on tall arrays."""
    out = np.abs(m[:, 0])
    for k in range(1, m.shape[1]):
        np.maximum(out, np.abs(m[:, k]), out=out)
    return out


_KERN = np.ascontiguousarray(_KERNELS.T.astype(np.float32))  # taps x phases


def _hot_windows(ch: np.ndarray, floor: float) -> np.ndarray:
    """Where interpolated points could reach ``floor``: the starts i of the windows
    ``padded[i:i+TAPS]`` (samples i-TAPS/2+1 .. i+TAPS/2) that hold a sample of at least
    ``floor / _L1``. Loud samples are usually few: they are marked directly; when they are many, a
    running maximum over the window is cheaper."""
    n, half = ch.size, _TAPS // 2
    hot = np.abs(ch) >= floor / _L1
    count = int(np.count_nonzero(hot))
    if count * _TAPS > n // 8:
        padded = np.concatenate([np.zeros(half - 1, bool), hot, np.zeros(half, bool)]).view(np.uint8)
        return np.flatnonzero(maximum_filter1d(padded, size=_TAPS, mode="constant", origin=-half)[:n])
    idx = np.flatnonzero(hot)
    mark = np.zeros(n, dtype=bool)
    for r in range(-half, half):
        mark[np.clip(idx + r, 0, n - 1)] = True
    return np.flatnonzero(mark)


def _interpolated(ch: np.ndarray, starts: np.ndarray):
    """(starts, |max over the three interpolated points after each|) in slices of 32768."""
    half = _TAPS // 2
    padded = np.concatenate([np.zeros(half - 1, np.float32), ch, np.zeros(half, np.float32)])
    windows = sliding_window_view(padded, _TAPS)  # a view: gathering its rows beats index arithmetic 2.5x
    for a in range(0, starts.size, 1 << 15):
        sel = starts[a:a + (1 << 15)]
        yield sel, _absmax_rows(windows[sel] @ _KERN)


def sample_peaks(audio: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Per-sample peak of the 4x oversampled signal: the max over channels of the sample and the
    three interpolated points after it. Interpolated points are only computed where they could
    reach ``floor``: an interpolated value is at most ``_L1`` times its neighbours' maximum, so
    elsewhere the sample peak is exact enough for any decision against ``floor``."""
    x = np.ascontiguousarray(np.atleast_2d(np.asarray(audio, dtype=np.float32).T))
    peak = _absmax_rows(x.T)
    for ch in x:
        for sel, vals in _interpolated(ch, _hot_windows(ch, floor)):
            peak[sel] = np.maximum(peak[sel], vals)  # sel has no repeats
    return peak


def true_peak_db(audio: np.ndarray) -> float:
    """The 4x oversampled peak (dBTP): the sample peak, or an interpolated point near it."""
    if not np.size(audio):
        return -math.inf
    x = np.ascontiguousarray(np.atleast_2d(np.asarray(audio, dtype=np.float32).T))
    peak = float(np.abs(x).max())
    floor = peak
    for ch in x:
        for _, vals in _interpolated(ch, _hot_windows(ch, floor)):
            peak = max(peak, float(vals.max()))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limit(audio: np.ndarray, ceiling_db: float, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """The audio with its peaks taken down to ``ceiling_db``, and the gain curve that did it."""
    thr = 10 ** (ceiling_db / 20)
    need = np.minimum(1.0, thr / np.maximum(sample_peaks(audio, thr), 1e-12))
    w = max(3, int(0.0015 * rate))  # 1.5 ms look-ahead/attack
    gain = minimum_filter1d(need, size=2 * w + 1, mode="nearest")
    gain = uniform_filter1d(gain, size=w, mode="nearest")
    gain = np.minimum(gain, minimum_filter1d(need, size=w + 1, mode="nearest"))
    return (audio * gain[:, None]).astype(np.float32), gain


def normalise(audio: np.ndarray, rate: int, target_lufs: float, ceiling_db: float) -> tuple[np.ndarray, float, float]:
    """Audio at ``target_lufs`` with true peak at or below ``ceiling_db``; returns (audio,
    loudness, true peak). Loudness and true peak move exactly with a plain gain, so the audio is
    measured once, and again only if the limiter had to work."""
    if not np.isfinite(audio).all():
        raise BridgeError("the rendered stem contains NaN or infinite samples")
    kx = k_weighted(audio, rate)
    loud = None if kx is None else gated_loudness(kx, rate)
    if loud is None:
        raise SilentStem("the stem is silent: nothing to normalise")
    ceiling = ceiling_db - TP_MARGIN
    y = audio
    tp = true_peak_db(y)
    total_gain = None
    for _ in range(4):
        gain_db = target_lufs - loud
        if tp + gain_db <= ceiling:
            break
        # take the excess off the peaks (in the unscaled signal); the loudness that leaves is estimated
        # from the K-weighted signal and the limiter's gain, and measured exactly once at the end
        y, g = limit(y, ceiling - 0.2 - gain_db, rate)
        total_gain = g if total_gain is None else total_gain * g
        loud = gated_loudness(kx, rate, total_gain)
        if loud is None:
            raise SilentStem("the stem became silent while limiting")
        tp = true_peak_db(y)
    if total_gain is not None:
        loud = integrated_loudness(y, rate)
        if loud is None:
            raise SilentStem("the stem became silent while limiting")
    gain_db = target_lufs - loud
    if tp + gain_db > ceiling:  # the limiter could not hold it: give up loudness, never the ceiling
        gain_db = ceiling - tp
    out = (y * 10 ** (gain_db / 20)).astype(np.float32)
    return out, loud + gain_db, tp + gain_db
