"""Ardour's time values: samples, superclock (``a…``) and beat ticks (``b…``).

Sessions of version >= 7000 write positions as ``timepos_t`` strings and durations as
``timecnt_t`` strings (``<distance>@<position>``); older ones write plain sample counts.
See ardour-session-format.md §4. Conversions between superclock and samples are exact
integer arithmetic, as in Ardour's ``superclock.h``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bridge.errors import MalformedSession

SUPERCLOCK_DEFAULT = 282_240_000
TICKS_PER_BEAT = 1920

Domain = Literal["audio", "beats", "samples"]


@dataclass(frozen=True, slots=True)
class TimePos:
    """A point on the timeline in the domain the file used.

    ``audio``: superclock ticks; ``beats``: quarter-note ticks (1920 per quarter);
    ``samples``: a legacy plain integer, in samples at the session rate.
    """

    domain: Domain
    value: int

    def text(self) -> str:
        if self.domain == "audio":
            return f"a{self.value}"
        if self.domain == "beats":
            return f"b{self.value}"
        return str(self.value)


MAX_TIME = 1 << 62  # Ardour's timepos_t keeps 62 bits of magnitude


def parse_timepos(text: str | None, what: str = "time") -> TimePos:
    if text is None or text == "":
        raise MalformedSession(f"missing {what} value")
    head = text[0]
    if len(text) > 24:  # 2^62 has 19 digits: anything longer is no position Ardour writes
        raise MalformedSession(f"{what} value {text[:24]!r}... is longer than any position Ardour writes")
    try:
        if head == "a":
            pos = TimePos("audio", int(text[1:]))
        elif head == "b":
            pos = TimePos("beats", int(text[1:]))
        else:
            pos = TimePos("samples", int(text))
    except ValueError:
        raise MalformedSession(f"bad {what} value {text!r}") from None
    if not -MAX_TIME < pos.value < MAX_TIME:
        raise MalformedSession(f"{what} value {text!r} is past the end of Ardour's timeline (2^62)")
    return pos


def parse_timecnt(text: str | None, what: str = "length") -> tuple[TimePos, TimePos]:
    """Parse ``<distance>@<position>``; a legacy plain integer has position 0 (§4.2)."""
    if text is None or text == "":
        raise MalformedSession(f"missing {what} value")
    dist, sep, pos = text.partition("@")
    distance = parse_timepos(dist, what)
    if not sep:
        if distance.domain != "samples":
            # Ardour 7.3 refuses to build the playlist in this case (pitfall 1).
            raise MalformedSession(f"{what} {text!r} has no '@position' part")
        return distance, TimePos("samples", 0)
    return distance, parse_timepos(pos, f"{what} position")


def samples_to_superclock(samples: int, sample_rate: int, scps: int) -> int:
    """``round(n * scps / sr)`` in exact integer arithmetic (half away from zero)."""
    num = samples * scps
    if num >= 0:
        return (2 * num + sample_rate) // (2 * sample_rate)
    return -((-2 * num + sample_rate) // (2 * sample_rate))


def superclock_to_samples(superclock: int, sample_rate: int, scps: int) -> int:
    """``floor(s * sr / scps)``, as Ardour's ``superclock_to_samples``."""
    return (superclock * sample_rate) // scps


def audio_pos(superclock: int) -> str:
    return f"a{superclock}"


def audio_cnt(length_sc: int, position_sc: int) -> str:
    return f"a{length_sc}@a{position_sc}"
