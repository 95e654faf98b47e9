"""Time encodings and the tempo map, checked against values worked out independently."""

from __future__ import annotations

import math

import pytest
from scipy.integrate import quad

from bridge.ardour.tempo import Meter, Tempo, TempoMap
from bridge.ardour.timeline import (
    SUPERCLOCK_DEFAULT,
    TimePos,
    parse_timecnt,
    parse_timepos,
    samples_to_superclock,
    superclock_to_samples,
)
from bridge.errors import MalformedSession

SCPS = SUPERCLOCK_DEFAULT


def test_timepos_domains() -> None:
    assert parse_timepos("a282240000") == TimePos("audio", 282240000)
    assert parse_timepos("b1920") == TimePos("beats", 1920)
    assert parse_timepos("48000") == TimePos("samples", 48000)
    assert parse_timepos("a-5").value == -5


def test_timecnt_carries_position() -> None:
    d, p = parse_timecnt("a282240000@a141120000")
    assert (d.value, p.value) == (282240000, 141120000)
    d, p = parse_timecnt("b3840@a1411200000")
    assert (d.domain, p.domain) == ("beats", "audio")
    # Legacy digits: samples, and the position becomes 0 (§4.2).
    d, p = parse_timecnt("48000")
    assert (d, p) == (TimePos("samples", 48000), TimePos("samples", 0))


@pytest.mark.parametrize("text", ["a282240000", "b7680", "", "x12", "a1.5", "a12@", "@a0", "a12@zz"])
def test_bad_timecnt(text: str) -> None:
    with pytest.raises(MalformedSession):
        parse_timecnt(text)


@pytest.mark.parametrize("rate,per_sample", [(48000, 5880), (44100, 6400), (96000, 2940), (88200, 3200),
                                             (192000, 1470), (32000, 8820), (22050, 12800)])
def test_superclock_is_exact_at_common_rates(rate: int, per_sample: int) -> None:
    for n in (0, 1, 12345, 10**9):
        assert samples_to_superclock(n, rate, SCPS) == n * per_sample
        assert superclock_to_samples(n * per_sample, rate, SCPS) == n
    # floor, as Ardour's superclock_to_samples
    assert superclock_to_samples(per_sample - 1, rate, SCPS) == 0


def test_constant_tempo_bars() -> None:
    tm = TempoMap.constant(48000, 120)
    assert tm.samples_at_bar(1) == 0
    assert tm.samples_at_bar(3) == 4 * 48000  # 2 bars of 4/4 at 120 = 4 s
    assert tm.bar_at_samples(6 * 48000) == pytest.approx(4.0)
    assert tm.bbt_at_quarters(9.5) == (3, 2, 960)


def _fixture_map() -> TempoMap:
    """The map of tests/fixtures/v7003.ardour: 120, 90 at bar 5, 3/4 at bar 9, ramp 90->120 bars 13-17."""
    ramp_end = 7526400000 + round(
        math.log1p(188160000 * ((1 / 141120000 - 1 / 188160000) / 12) * 12) / ((1 / 141120000 - 1 / 188160000) / 12))
    return TempoMap(48000, SCPS,
                    [Tempo(0, 0, 120, 120, 4), Tempo(2257920000, 16, 90, 90, 4),
                     Tempo(7526400000, 44, 90, 120, 4), Tempo(ramp_end, 56, 120, 120, 4)],
                    [Meter(0, 0, 1, 4, 4), Meter(5268480000, 32, 9, 3, 4)])


def test_tempo_and_meter_changes() -> None:
    tm = _fixture_map()
    assert tm.samples_at_bar(5) == 8 * 48000
    assert tm.samples_at_bar(6) == 8 * 48000 + 4 * 32000  # 4 quarters at 90 bpm (2/3 s each)
    assert tm.samples_at_bar(9) == 896000  # 18.667 s
    assert tm.samples_at_bar(10) == 896000 + 3 * 32000  # a 3/4 bar
    assert tm.bar_at_samples(896000 + 3 * 32000) == pytest.approx(10.0)


def test_ramp_matches_numeric_integration() -> None:
    tm = _fixture_map()
    start = 7526400000 / SCPS  # seconds at bar 13

    def seconds_per_quarter(dq: float) -> float:
        # Ardour ramps the reciprocal of superclocks-per-quarter linearly in quarters.
        inv = 1 / 188160000 + (1 / 141120000 - 1 / 188160000) * dq / 12
        return 1 / inv / SCPS

    for dq in (1.0, 3.0, 7.5, 12.0):
        expected = start + quad(seconds_per_quarter, 0, dq)[0]
        assert tm.samples_at_quarters(44 + dq) == pytest.approx(expected * 48000, abs=1)
    assert tm.bpm_at_samples(tm.samples_at_quarters(44)) == pytest.approx(90)
    assert tm.bpm_at_samples(tm.samples_at_quarters(55.999)) == pytest.approx(120, abs=0.01)


def test_round_trip_samples_quarters() -> None:
    tm = _fixture_map()
    for n in (0, 1, 47999, 500000, 1372209, 2000000, 5000000):
        assert abs(tm.samples_at_quarters(tm.quarters_at_samples(n)) - n) <= 1


def test_bad_tempo_values() -> None:
    with pytest.raises(MalformedSession):
        TempoMap(48000, SCPS, [Tempo(0, 0, 0, 0, 4)], [])
    with pytest.raises(MalformedSession):
        TempoMap(48000, SCPS, [], [Meter(0, 0, 1, 0, 4)])


def test_stored_omega_wins_as_in_ardour() -> None:
    """Ardour 7.3 plays a ramp saved with omega="0" at its start tempo (seen with ardour7-lua),
    so a stored omega is used as it is; a missing one is recomputed."""
    stored_zero = TempoMap(48000, SCPS, [Tempo(0, 0, 90, 120, 4, omega_file=0.0), Tempo(10**10, 12, 120, 120, 4)])
    assert stored_zero.samples_at_quarters(3) == 3 * 32000
    recomputed = TempoMap(48000, SCPS, [Tempo(0, 0, 90, 120, 4), Tempo(10**10, 12, 120, 120, 4)])
    assert recomputed.tempos[0].omega == pytest.approx(1.476284958427815e-10)
    assert recomputed.samples_at_quarters(3) < 3 * 32000


@pytest.mark.parametrize("bpm", [110, 124, 130, 140, 174, 120, 97.5])
def test_the_bar_holding_a_sample_is_decided_on_integers(bpm: float) -> None:
    """A bar line lands on a floored sample, so at most tempos the fractional bar of a bar's first
    sample is a hair under the bar number: the bar is decided against the integer bar lines."""
    tm = TempoMap.constant(48000, bpm)
    for bar in range(1, 400):
        line = tm.samples_at_bar(bar)
        assert tm.bar_containing(line) == bar
        assert tm.bar_containing(line - 1) == max(1, bar - 1)
        # a take covering bars 3-6 exactly spans bars 3-6
        assert tm.bars_spanning(line, tm.samples_at_bar(bar + 4)) == (bar, bar + 3)
        assert tm.bbt_at_quarters(tm.quarters_at_bbt(bar)) == (bar, 1, 0)
    # 3/4 after bar 9, and a beat in the middle
    tm = TempoMap(48000, SCPS, [Tempo(0, 0, 110, 110, 4)], [Meter(0, 0, 1, 4, 4), Meter(0, 32, 9, 3, 4)])
    assert tm.bbt_at_quarters(32 + 3 * 5 + 2) == (14, 3, 0)
    assert tm.bar_containing(tm.samples_at_bar(14)) == 14
    # a sliver past the last bar line is rounding, not a bar
    assert tm.bars_spanning(0, tm.samples_at_bar(5) + 10, sliver=0.02) == (1, 4)
    assert tm.bars_spanning(0, tm.samples_at_bar(5) + 10) == (1, 5)


def test_a_ramp_down_past_zero_is_a_clear_error() -> None:
    """A last tempo that ramps down (negative stored omega) reaches 0 BPM after some quarters:
    positions past it are a clear session error, not a bare math ValueError."""
    tm = TempoMap(48000, SCPS, [Tempo(0, 0, 120, 60, 4, omega_file=-1e-9)])
    assert tm.samples_at_quarters(1) > 24000  # slowing down: the first beat is longer than at 120
    with pytest.raises(MalformedSession, match="ramps down from 120 BPM"):
        tm.samples_at_quarters(10_000)
    assert tm.quarters_at_samples(10**9) < 10_000  # the other way round has no limit to cross
