"""Reading hand-written 6000 and 7003 sessions with tempo and meter changes (format spec §4-§13)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from scipy.integrate import quad

from bridge.ardour import read_session
from bridge.ardour.reader import find_session_file
from bridge.errors import SessionNotFound


def _seconds_at_quarter_in_ramp(dq: float) -> float:
    def spq(x: float) -> float:
        return 1 / (1 / 188160000 + (1 / 141120000 - 1 / 188160000) * x / 12) / 282240000

    return 7526400000 / 282240000 + quad(spq, 0, dq)[0]


def test_v7003(handmade: Callable[[str], Path]) -> None:
    s = read_session(handmade("7003"))
    assert (s.version, s.sample_rate, s.id_counter, s.name) == (7003, 48000, 200, "Handmade7003")
    assert s.session_range == (0, 30 * 48000)
    assert s.master is not None and s.master.n_inputs == 2
    assert [t.name for t in s.tracks] == ["Drums", "Keys"]
    drums, keys = s.tracks
    assert (drums.kind, drums.role, drums.locked, drums.role_guessed, drums.gain) == ("audio", "drums", True,
                                                                                     False, 0.5)
    assert (keys.kind, keys.muted, keys.locked, keys.role, keys.role_guessed) == ("midi", True, False,
                                                                                 "harmony", True)
    assert [p.name for p in s.takes_of(drums)] == ["Drums", "Drums.1"]

    r1, r2, r3 = s.regions_of(drums)
    assert (r1.position, r1.start, r1.length) == (0, 0, 4 * 48000)
    assert r1.length_text == "a1128960000@a0"
    assert r1.envelope_active and r1.envelope.points == ((0, 0.5), (48000, 1.0))
    assert r1.fade_in.length == 4800 and r1.fade_in.active and not r1.fade_out.active
    assert r1.fade_out.curve.default and r1.scale_amplitude == 0.75
    # Glued to bar 6: 16 quarters at 120 (8 s) and 4 at 90 (2.667 s).
    assert (r2.position, r2.start, r2.length) == (512000, 4800, 48000)
    assert r2.position_text == "b38400" and r2.muted and not r2.opaque
    # 47 quarters: 3 quarters into the 90->120 ramp.
    assert r3.position == pytest.approx(_seconds_at_quarter_in_ramp(3) * 48000, abs=1)
    assert r3.length == 48000
    assert [r.layer for r in (r1, r2, r3)] == [0, 0, 0]

    (k,) = s.regions_of(keys)
    assert (k.position, k.length, k.start_quarters, k.length_quarters) == (96000, 96000, 0.0, 4.0)
    assert s.sources[k.source_ids[0]].path.name == "keys.mid"
    assert s.tempo_map.samples_at_bar(17) == round(
        (7526400000 + math.log1p(1 / 3) / ((1 / 141120000 - 1 / 188160000) / 12)) * 48000 / 282240000
        - 0.5)
    assert s.warnings == []


def test_v6000(handmade: Callable[[str], Path]) -> None:
    s = read_session(handmade("6000"))
    assert (s.version, s.id_counter) == (6000, 300)
    assert s.session_range == (0, 960000)
    (t,) = s.tracks
    assert (t.name, t.role, t.role_guessed, t.locked) == ("Bass Guitar", "bass", True, False)
    r1, r2 = s.regions_of(t)
    assert (r1.position, r1.start, r1.length) == (0, 0, 96000)
    assert (r2.position, r2.start, r2.length) == (512000, 24000, 48000)
    assert r2.position_text == "512000"
    tm = s.tempo_map
    assert tm.samples_at_bar(5) == 384000 and tm.samples_at_bar(6) == 512000
    assert tm.samples_at_bar(9) == 896000 and tm.samples_at_bar(10) == 896000 + 96000
    assert s.sources["201"].path == s.folder / "interchange" / "Handmade6000" / "audiofiles" / "bass.wav"


def test_folder_or_file(handmade: Callable[[str], Path]) -> None:
    folder = handmade("6000")
    assert find_session_file(folder) == folder / "Handmade6000.ardour"
    assert find_session_file(folder / "Handmade6000.ardour") == folder / "Handmade6000.ardour"
    (folder / "Other.ardour").write_bytes((folder / "Handmade6000.ardour").read_bytes())
    (folder / "Handmade6000.ardour").rename(folder / "Third.ardour")
    with pytest.raises(SessionNotFound, match="several snapshots"):
        find_session_file(folder)


def test_missing_source_is_reported(handmade: Callable[[str], Path]) -> None:
    folder = handmade("6000")
    (folder / "interchange" / "Handmade6000" / "audiofiles" / "bass.wav").unlink()
    s = read_session(folder)
    assert [x.name for x in s.missing_sources()] == ["bass.wav"]
    assert any("bass.wav" in w for w in s.warnings)
