"""The session's tempo map: tempo and meter changes, and conversions between samples,
superclock, quarter notes and bars|beats|ticks.

Both file formats are read into the same model (ardour-session-format.md §6): the 6.x flat
``<Tempo pulse frame …>``/``<Meter …>`` children, and the 7.x+ ``<Tempos>``/``<Meters>``/
``<MusicTimes>`` lists. Positions are kept in superclock and in quarter notes, so the maths
is the same for both. Ramped tempos follow Ardour's ``TempoPoint::superclock_at``: the
reciprocal of superclocks-per-quarter changes linearly with quarters (``omega``).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from lxml import etree

from bridge.ardour.timeline import (
    SUPERCLOCK_DEFAULT,
    TICKS_PER_BEAT,
    samples_to_superclock,
    superclock_to_samples,
)
from bridge.errors import MalformedSession


@dataclass(slots=True)
class Tempo:
    """A tempo change. ``npm``/``enpm``: note types per minute at start and end (a ramp when
    they differ); positions in superclock and quarter notes."""

    sclock: int
    quarters: float
    npm: float
    enpm: float
    note_type: int
    omega: float = 0.0  # the ramp coefficient in use; 0 for constant tempos
    # ``omega`` as the file stores it. Ardour 7.3 uses the stored value (a ramp saved with
    # omega="0" plays at the start tempo), so the bridge does too; only files without one
    # (6.x, 7.4-7.5's omega_beats) get it recomputed from the next point.
    omega_file: float | None = None

    @property
    def ramped(self) -> bool:
        return self.npm != self.enpm

    @property
    def quarter_bpm(self) -> float:
        """Quarter notes per minute at the start of the segment."""
        return self.npm * 4.0 / self.note_type

    def scpqn(self, scps: int) -> float:
        """Superclocks per quarter note at the start (``TempoPoint::superclocks_per_quarter_note``)."""
        return round(60.0 / self.npm * scps) * self.note_type / 4.0

    def end_scpqn(self, scps: int) -> float:
        return round(60.0 / self.enpm * scps) * self.note_type / 4.0


@dataclass(slots=True)
class Meter:
    """A time signature starting at ``bar`` (1-based), e.g. 3/4 is divisions 3, note value 4."""

    sclock: int
    quarters: float
    bar: int
    divisions_per_bar: float
    note_value: int

    @property
    def beat_quarters(self) -> float:
        return 4.0 / self.note_value

    @property
    def bar_quarters(self) -> float:
        return self.divisions_per_bar * self.beat_quarters


@dataclass
class TempoMap:
    sample_rate: int
    scps: int = SUPERCLOCK_DEFAULT
    tempos: list[Tempo] = field(default_factory=list)
    meters: list[Meter] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._finish()

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def constant(cls, sample_rate: int, bpm: float = 120.0, divisions: int = 4, note_value: int = 4,
                 scps: int = SUPERCLOCK_DEFAULT) -> TempoMap:
        return cls(sample_rate, scps, [Tempo(0, 0.0, bpm, bpm, 4)], [Meter(0, 0.0, 1, divisions, note_value)])

    def _finish(self) -> None:
        if not self.tempos:
            self.tempos = [Tempo(0, 0.0, 120.0, 120.0, 4)]
        if not self.meters:
            self.meters = [Meter(0, 0.0, 1, 4, 4)]
        self.tempos.sort(key=lambda t: t.sclock)
        self.meters.sort(key=lambda m: m.quarters)
        for i, t in enumerate(self.tempos):
            if t.npm <= 0 or t.enpm <= 0 or t.note_type <= 0:
                raise MalformedSession(f"tempo {t.npm}/{t.note_type} at {t.sclock} is not positive")
            nxt = self.tempos[i + 1] if i + 1 < len(self.tempos) else None
            if t.omega_file is not None:
                t.omega = t.omega_file
            elif t.ramped and nxt is not None and nxt.quarters > t.quarters:
                dq = nxt.quarters - t.quarters
                t.omega = (1.0 / t.end_scpqn(self.scps) - 1.0 / t.scpqn(self.scps)) / dq
            else:
                t.omega = 0.0
        for m in self.meters:
            if m.divisions_per_bar <= 0 or m.note_value <= 0:
                raise MalformedSession(f"meter {m.divisions_per_bar}/{m.note_value} is not positive")
        self._tempo_sc = [t.sclock for t in self.tempos]
        self._tempo_q = [t.quarters for t in self.tempos]
        self._meter_q = [m.quarters for m in self.meters]
        self._meter_bar = [m.bar for m in self.meters]

    # -- superclock <-> quarters ---------------------------------------------------------------

    def superclock_at_quarters(self, quarters: float) -> int:
        i = max(0, bisect.bisect_right(self._tempo_q, quarters) - 1)
        t = self.tempos[i]
        dq = quarters - t.quarters
        s = t.scpqn(self.scps)
        if t.omega == 0.0:
            return t.sclock + round(s * dq)
        x = s * t.omega * dq
        if x <= -1.0:
            # a ramp that slows down (negative omega) with no tempo after it reaches 0 BPM after
            # -1/(s*omega) quarters: nothing lies beyond that point in time
            raise MalformedSession(
                f"the session's last tempo ramps down from {t.quarter_bpm:g} BPM (at quarter {t.quarters:g}) and"
                f" stops {-1.0 / (s * t.omega):.1f} quarters later, before quarter {quarters:g}: in Ardour, give"
                f" that tempo an end tempo, or add a tempo marker where the ramp should end")
        return t.sclock + round(math.log1p(x) / t.omega)

    def quarters_at_superclock(self, sclock: int) -> float:
        i = max(0, bisect.bisect_right(self._tempo_sc, sclock) - 1)
        t = self.tempos[i]
        dsc = sclock - t.sclock
        s = t.scpqn(self.scps)
        if t.omega == 0.0:
            return t.quarters + dsc / s
        return t.quarters + math.expm1(t.omega * dsc) / (s * t.omega)

    # -- samples -------------------------------------------------------------------------------

    def samples_to_superclock(self, samples: int) -> int:
        return samples_to_superclock(samples, self.sample_rate, self.scps)

    def superclock_to_samples(self, sclock: int) -> int:
        return superclock_to_samples(sclock, self.sample_rate, self.scps)

    def samples_at_quarters(self, quarters: float) -> int:
        return self.superclock_to_samples(self.superclock_at_quarters(quarters))

    def quarters_at_samples(self, samples: int) -> float:
        return self.quarters_at_superclock(self.samples_to_superclock(samples))

    def samples_at_ticks(self, ticks: int) -> int:
        """Samples at a ``b…`` value (quarter-note ticks, 1920 per quarter)."""
        return self.samples_at_quarters(ticks / TICKS_PER_BEAT)

    # -- bars ------------------------------------------------------------------------------------

    def meter_at_quarters(self, quarters: float) -> Meter:
        return self.meters[max(0, bisect.bisect_right(self._meter_q, quarters) - 1)]

    def tempo_at_samples(self, samples: int) -> Tempo:
        sc = self.samples_to_superclock(samples)
        return self.tempos[max(0, bisect.bisect_right(self._tempo_sc, sc) - 1)]

    def bpm_at_samples(self, samples: int) -> float:
        """Quarter notes per minute at a point, ramps included."""
        t = self.tempo_at_samples(samples)
        if t.omega == 0.0:
            return t.quarter_bpm
        q = self.quarters_at_samples(samples) - t.quarters
        inv = 1.0 / t.scpqn(self.scps) + t.omega * q
        return 60.0 * self.scps * inv

    def quarters_at_bbt(self, bar: int, beat: int = 1, ticks: int = 0) -> float:
        if bar < 1 or beat < 1 or ticks < 0:
            raise ValueError(f"bar|beat|tick {bar}|{beat}|{ticks} is before the start of the session")
        m = self.meters[max(0, bisect.bisect_right(self._meter_bar, bar) - 1)]
        return (m.quarters + (bar - m.bar) * m.bar_quarters + (beat - 1) * m.beat_quarters
                + ticks / TICKS_PER_BEAT * m.beat_quarters)

    def bbt_at_quarters(self, quarters: float) -> tuple[int, int, int]:
        # counted in whole ticks, so that a bar line computed as 3.9999999 beats is 2|1|0, not 1|4|1920
        m = self.meter_at_quarters(quarters)
        ticks = round(max(0.0, quarters - m.quarters) / m.beat_quarters * TICKS_PER_BEAT)
        bars, rest = divmod(ticks, round(m.divisions_per_bar * TICKS_PER_BEAT))
        beats, ticks = divmod(rest, TICKS_PER_BEAT)
        return m.bar + bars, beats + 1, ticks

    def samples_at_bar(self, bar: int) -> int:
        """First sample of a bar (1-based)."""
        return self.samples_at_quarters(self.quarters_at_bbt(bar))

    def bar_at_samples(self, samples: int) -> float:
        """Fractional bar number (1.0 = the start of bar 1) at a sample position."""
        q = self.quarters_at_samples(samples)
        m = self.meter_at_quarters(q)
        return m.bar + (q - m.quarters) / m.bar_quarters

    def bar_containing(self, sample: int) -> int:
        """The bar (1-based) that holds ``sample``: ``samples_at_bar(b) <= sample < samples_at_bar(b + 1)``.

        Decided on integer samples, not on the fractional bar: a bar line lands on a floored sample,
        so at most tempos (110, 124, 130 BPM...) ``bar_at_samples`` of a bar's first sample is a hair
        under the bar number, and flooring it named the bar before."""
        b = max(1, int(self.bar_at_samples(max(0, sample))))
        while b > 1 and self.samples_at_bar(b) > sample:
            b -= 1
        while self.samples_at_bar(b + 1) <= sample:
            b += 1
        return b

    def bars_spanning(self, start: int, end: int, sliver: float = 0.0) -> tuple[int, int]:
        """First and last bar (inclusive) that material from ``start`` up to ``end`` (exclusive)
        touches. A tail under ``sliver`` of a bar past the last bar line is rounding, not a bar."""
        first = self.bar_containing(start)
        last = self.bar_containing(max(start, end - 1))
        if sliver > 0 and last > first:
            line = self.samples_at_bar(last)
            if end - line < sliver * (self.samples_at_bar(last + 1) - line):
                last -= 1
        return first, max(first, last)

    def to_dict(self) -> dict:
        return {
            "superclocks_per_second": self.scps,
            "tempos": [
                {"sample": self.superclock_to_samples(t.sclock), "quarters": t.quarters,
                 "bpm": t.npm, "end_bpm": t.enpm, "note_type": t.note_type, "ramped": t.ramped}
                for t in self.tempos
            ],
            "meters": [
                {"sample": self.superclock_to_samples(m.sclock), "bar": m.bar,
                 "divisions_per_bar": m.divisions_per_bar, "note_value": m.note_value}
                for m in self.meters
            ],
        }


# -- reading ---------------------------------------------------------------------------------------


def _float(el: etree._Element, name: str, default: float | None = None) -> float:
    v = el.get(name)
    if v is None:
        if default is None:
            raise MalformedSession(f"<{el.tag}> has no {name!r}")
        return default
    try:
        f = float(v)
    except ValueError:
        raise MalformedSession(f"<{el.tag}> {name}={v!r} is not a number") from None
    if not math.isfinite(f):
        raise MalformedSession(f"<{el.tag}> {name}={v!r} is not finite")
    return f


def _quarters(text: str | None) -> float:
    """``"beats:ticks"`` (7.x ``quarters`` attribute) to quarter notes."""
    if not text:
        raise MalformedSession("tempo/meter point without 'quarters'")
    b, _, t = text.partition(":")
    try:
        return int(b) + int(t or 0) / TICKS_PER_BEAT
    except ValueError:
        raise MalformedSession(f"bad quarters value {text!r}") from None


def _bar(text: str | None) -> int:
    if not text:
        raise MalformedSession("meter point without 'bbt'")
    try:
        return int(text.split("|")[0])
    except ValueError:
        raise MalformedSession(f"bad bbt value {text!r}") from None


def _int_attr(el: etree._Element, name: str) -> int:
    v = el.get(name)
    try:
        return int(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MalformedSession(f"<{el.tag}> {name}={v!r} is not an integer") from None


def read_tempo_map(node: etree._Element | None, version: int, sample_rate: int) -> TempoMap:
    if node is None:
        raise MalformedSession("the session has no <TempoMap> (Ardour cannot load it either)")
    if version >= 7000:
        return _read_v7(node, sample_rate)
    return _read_v6(node, sample_rate)


def _tempo_v7(el: etree._Element) -> Tempo:
    npm = _float(el, "npm")
    omega = _float(el, "omega") if el.get("omega") is not None else None
    return Tempo(_int_attr(el, "sclock"), _quarters(el.get("quarters")), npm, _float(el, "enpm", npm),
                 int(_float(el, "note-type", 4)), omega_file=omega)


def _meter_v7(el: etree._Element) -> Meter:
    return Meter(_int_attr(el, "sclock"), _quarters(el.get("quarters")), _bar(el.get("bbt")),
                 _float(el, "divisions-per-bar"), int(_float(el, "note-value", 4)))


def _read_v7(node: etree._Element, sample_rate: int) -> TempoMap:
    scps_text = node.get("superclocks-per-second")
    scps = int(scps_text) if scps_text and scps_text.isdigit() else SUPERCLOCK_DEFAULT
    if scps <= 0:
        raise MalformedSession("superclocks-per-second must be positive")
    tempos: list[Tempo] = []
    meters: list[Meter] = []
    for child in node:
        if child.tag == "Tempos":
            tempos += [_tempo_v7(t) for t in child if t.tag == "Tempo"]
        elif child.tag == "Meters":
            meters += [_meter_v7(m) for m in child if m.tag == "Meter"]
        elif child.tag == "MusicTimes":
            for mt in child:
                if mt.tag != "MusicTime":
                    continue
                # A BBT marker carries its own tempo and meter at the marker's position.
                for sub in mt:
                    el = etree.Element(sub.tag, dict(sub.attrib))
                    for k in ("sclock", "quarters", "bbt"):
                        if mt.get(k) is not None:
                            el.set(k, mt.get(k))
                    if sub.tag == "Tempo":
                        tempos.append(_tempo_v7(el))
                    elif sub.tag == "Meter":
                        meters.append(_meter_v7(el))
    return TempoMap(sample_rate, scps, tempos, meters)


def _read_v6(node: etree._Element, sample_rate: int) -> TempoMap:
    scps = SUPERCLOCK_DEFAULT
    tempos: list[Tempo] = []
    meters: list[Meter] = []
    for el in node:
        if el.tag not in ("Tempo", "Meter"):
            continue
        frame = int(_float(el, "frame", 0.0))
        sclock = samples_to_superclock(frame, sample_rate, scps)
        quarters = _float(el, "pulse", 0.0) * 4.0  # pulse counts whole notes
        if el.tag == "Tempo":
            bpm = _float(el, "beats-per-minute")
            # A ramp is an end tempo that differs from the start (``tempo-type`` is informational).
            end = _float(el, "end-beats-per-minute", bpm)
            tempos.append(Tempo(sclock, quarters, bpm, end, int(_float(el, "note-type", 4))))
        else:
            meters.append(Meter(sclock, quarters, _bar(el.get("bbt", "1|1|0")),
                                _float(el, "divisions-per-bar"), int(_float(el, "note-type", 4))))
    return TempoMap(sample_rate, scps, tempos, meters)
