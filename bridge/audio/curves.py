"""Gain curves evaluated the way Ardour 7 evaluates them (libs/evoral Curve, pbd control_math).

Region envelopes and fades are automation lists whose points are in superclock. Ardour samples
them with ``Curve::get_vector(x0, x1, vec, n)``: n points from x0 to x1 *inclusive*; two-point
lists interpolate linearly (or in the fader's gain domain for "Exponential"); longer "Curved"
lists (fades) use a constrained cubic spline (C.J.C. Kruger) with coefficients in superclock
units. Matching this is what lets a mixdown null against Ardour's own export.
"""

from __future__ import annotations

import math

import numpy as np

from bridge.ardour.model import Curve

GAIN_COEFF_SMALL = float(np.float32(1e-7))
_STEPS = 32


def _gain_to_position(g: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        out = np.power((6.0 * np.log(g) / math.log(2.0) + 192.0) / 198.0, 8.0)
    return np.where(g == 0, 0.0, out)


def _position_to_gain(p: np.ndarray) -> np.ndarray:
    out = np.exp(((np.power(np.maximum(p, 0.0), 1.0 / 8.0) * 198.0) - 192.0) / 6.0 * math.log(2.0))
    return np.where(p == 0, 0.0, out)


def interpolate_gain(f: float, t: float, fraction: np.ndarray, upper: float) -> np.ndarray:
    frm, to = f + 1e-7, t + 1e-7
    if abs(to - frm) < 1e-7:
        return np.full_like(fraction, to)
    g0 = _gain_to_position(np.array(frm * 2.0 / upper))
    g1 = _gain_to_position(np.array(to * 2.0 / upper))
    return _position_to_gain(g0 + fraction * (g1 - g0)) * upper / 2.0


class CurveEval:
    """One automation list, ready to be sampled like Ardour's Curve."""

    def __init__(self, xs: list[float], ys: list[float], interpolation: str, upper: float = 2.0,
                 normal: float = 1.0) -> None:
        self.x = np.asarray(xs, dtype=np.float64)
        self.y = np.asarray(ys, dtype=np.float64)
        self.interpolation = interpolation or "Linear"
        self.upper = upper
        self.normal = normal
        self.coeffs = self._solve() if len(xs) > 2 and self.interpolation == "Curved" else None

    @classmethod
    def from_curve(cls, curve: Curve, sc_per_sample: float, upper: float = 2.0) -> CurveEval:
        return cls([p[0] * sc_per_sample for p in curve.points], [p[1] for p in curve.points],
                   curve.interpolation, upper)

    def _solve(self) -> np.ndarray:
        """Constrained cubic spline coefficients per segment (segment i ends at point i)."""
        x, y = self.x, self.y
        n = len(x)
        co = np.zeros((n, 4))
        with np.errstate(divide="ignore", invalid="ignore"):
            lp0 = (x[1] - x[0]) / (y[1] - y[0])
            lp1 = (x[2] - x[1]) / (y[2] - y[1])
            fpone = 0.0 if lp0 * lp1 < 0 else 2 / (lp1 + lp0)
            fplast = (3 * (y[1] - y[0]) / (2 * (x[1] - x[0]))) - fpone * 0.5
            for i in range(1, n):
                xi, xim1 = x[i], x[i - 1]
                xdelta = xi - xim1
                ydelta = y[i] - y[i - 1]
                if i == n - 1:
                    fpi = (3 * ydelta) / (2 * xdelta) - fplast * 0.5
                else:
                    slope_before = (x[i + 1] - xi) / (y[i + 1] - y[i])
                    slope_after = xdelta / ydelta
                    fpi = 0.0 if slope_after * slope_before < 0.0 else 2 / (slope_before + slope_after)
                fpp_l = -2 * (fpi + 2 * fplast) / xdelta + 6 * ydelta / (xdelta * xdelta)
                fpp_r = 2 * (2 * fpi + fplast) / xdelta - 6 * ydelta / (xdelta * xdelta)
                d = (fpp_r - fpp_l) / (6 * xdelta)
                c = ((xi * fpp_l) - (xim1 * fpp_r)) / (2 * xdelta)
                b = (ydelta - c * (xi * xi - xim1 * xim1) - d * (xi ** 3 - xim1 ** 3)) / xdelta
                co[i] = (y[i - 1] - b * xim1 - c * xim1 * xim1 - d * xim1 ** 3, b, c, d)
                fplast = fpi
        return co

    def last_x(self) -> float:
        return float(self.x[-1]) if len(self.x) else 0.0

    def vector(self, start: float, end: float, n: int) -> np.ndarray:
        """``Curve::get_vector(start, end, vec, n)``."""
        out = np.empty(n, dtype=np.float64)
        if n == 0:
            return out
        x, y = self.x, self.y
        if len(x) == 0:
            out.fill(self.normal)
            return out
        if len(x) == 1:
            out.fill(y[0])
            return out
        min_x, max_x = x[0], x[-1]
        if start > max_x:
            out.fill(y[-1])
            return out
        if end < min_x:
            out.fill(y[0])
            return out
        lo, veclen = 0, n
        if start < min_x:
            fill = min(int(math.floor(n * (min_x - start) / (end - start))), n)
            out[:fill] = y[0]
            lo, veclen = fill, n - fill
        if veclen and end > max_x:
            fill = min(int(math.floor(n * (end - max_x) / (end - start))), veclen)
            out[lo + veclen - fill:lo + veclen] = y[-1]
            veclen -= fill
        lx, hx = max(min_x, start), min(max_x, end)
        if veclen == 0:
            return out
        idx = np.arange(veclen, dtype=np.float64)
        if len(x) == 2:
            lpos, lval, upos, uval = x[0], y[0], x[1], y[1]
            if veclen > 1:
                if self.interpolation == "Exponential":
                    frac = (lx - lpos + idx * (hx - lx) / (veclen - 1)) / (upos - lpos)
                    seg = interpolate_gain(lval, uval, frac, self.upper)
                else:
                    m_num, m_den = uval - lval, upos - lpos
                    c = uval - (m_num * upos / m_den)
                    seg = (lx * (m_num / m_den) + m_num * idx * (hx - lx) / (m_den * (veclen - 1))) + c
            else:
                frac = np.array([(lx - lpos) / (upos - lpos)])
                seg = (interpolate_gain(lval, uval, frac, self.upper) if self.interpolation == "Exponential"
                       else lval + frac * (uval - lval))
            out[lo:lo + veclen] = seg
            return out
        dx = (hx - lx) / (veclen - 1) if veclen > 1 else 0.0
        xs = lx + idx * dx
        out[lo:lo + veclen] = self._multipoint(xs)
        return out

    def _multipoint(self, xs: np.ndarray) -> np.ndarray:
        x, y = self.x, self.y
        res = np.empty_like(xs)
        # exact control points take their value; between points, interpolate from the segment
        right = np.searchsorted(x, xs, side="left")
        exact = (right < len(x)) & (x[np.minimum(right, len(x) - 1)] == xs)
        before_first = right == 0
        after_last = right >= len(x)
        seg = np.clip(right, 1, len(x) - 1)
        bw, aw = x[seg - 1], x[seg]
        bv, av = y[seg - 1], y[seg]
        frac = (xs - bw) / (aw - bw)
        interp = self.interpolation
        if interp == "Curved" and self.coeffs is not None:
            co = self.coeffs[seg]
            val = co[:, 0] + co[:, 1] * xs + co[:, 2] * xs * xs + co[:, 3] * xs * xs * xs
        elif interp == "Exponential":
            val = np.array([interpolate_gain(b, a, np.array(f), self.upper) for b, a, f in zip(bv, av, frac,
                                                                                              strict=True)])
        elif interp == "Discrete":
            val = bv.copy()
        elif interp == "Logarithmic":
            with np.errstate(divide="ignore", invalid="ignore"):
                val = bv * np.power(av / bv, frac)
        else:
            val = bv + (av - bv) * frac
        val = np.where(av - bv == 0.0, bv, val)
        res[:] = val
        res[before_first] = y[0]
        res[after_last] = y[-1]
        res[exact] = y[np.minimum(right, len(x) - 1)][exact]
        return res


def default_fade(length: int, fade_in: bool, sc_per_sample: float) -> tuple[CurveEval, CurveEval]:
    """Ardour's constant-power default fade (rc default-fade-shape) and its inverse."""
    pts = [(0, GAIN_COEFF_SMALL if fade_in else 1.0)]
    for i in range(1, _STEPS):
        dist = float(np.float32(i) / np.float32(_STEPS + 1))
        g = math.sin(dist * math.pi / 2.0) if fade_in else math.cos(dist * math.pi / 2.0)
        pts.append((int(length * dist), g))
    pts.append((length, 1.0 if fade_in else GAIN_COEFF_SMALL))
    end = pts[-1][0]
    inverse = [(end - x, v) for x, v in reversed(pts)]
    curve = CurveEval([p[0] * sc_per_sample for p in pts], [p[1] for p in pts], "Curved")
    inv = CurveEval([p[0] * sc_per_sample for p in inverse], [p[1] for p in inverse], "Curved")
    return curve, inv
