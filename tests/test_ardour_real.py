"""Against Ardour 7.3 itself: what the bridge reads equals what Ardour loads, and what the bridge
writes, Ardour loads, plays where it was placed, and keeps across its own save (DESIGN invariant 2)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.ardour import Clip, SessionEditor, read_session
from bridge.ardour.writer import next_take_name
from bridge.errors import SessionOpenInArdour
from bridge.frontends.cli.main import main as cli
from tests import ardour_tools
from tests.ardour_tools import dump, export, folder_state
from tests.conftest import write_wav

pytestmark = pytest.mark.ardour


def _ours(folder: Path) -> dict[str, list[dict]]:
    s = read_session(folder)
    return {t.name: [{"name": r.name, "position": r.position, "start": r.start, "length": r.length,
                      "muted": r.muted, "opaque": r.opaque, "layer": r.layer, "playlist": s.playlist_of(t).name}
                     for r in sorted(s.regions_of(t), key=lambda r: (r.position, r.name))]
            for t in s.tracks}


def _sorted(d: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {k: sorted(v, key=lambda r: (r["position"], r["name"])) for k, v in d.items()}


def test_reader_equals_ardour_on_a_recorded_session(recorded_session: Path) -> None:
    theirs = _sorted(dump(recorded_session, "Recorded"))
    ours = _ours(recorded_session)
    assert ours == theirs
    # the session really has the edits the fixture claims: trims, moves, mutes, layers, transparency
    regions = [r for rs in ours.values() for r in rs]
    assert any(r["start"] > 0 for r in regions) and any(r["muted"] for r in regions)
    assert any(r["layer"] > 0 for r in regions) and any(not r["opaque"] for r in regions)
    assert len({r["position"] for r in regions}) >= 4


@pytest.mark.parametrize("version", ["7003", "6000"])
def test_reader_equals_ardour_on_handmade_sessions(ardour: None, handmade: Callable[[str], Path],
                                                   version: str) -> None:
    folder = handmade(version)
    snapshot = folder.name
    theirs = _sorted(dump(folder, snapshot))
    ours = _ours(folder)
    assert ours == theirs, "tempo-mapped (b...) positions must agree with Ardour's"


def _bar_of(folder: Path, bar: int) -> int:
    return read_session(folder).tempo_map.samples_at_bar(bar)


def test_cli_edits_load_in_ardour_and_survive_its_save(recorded_copy: Path, tmp_path: Path) -> None:
    folder = recorded_copy
    stem = write_wav(tmp_path / "stem.wav", 2.0, channels=2, freq=330.0)
    take = write_wav(tmp_path / "take.wav", 1.0, freq=550.0)
    assert cli(["session", "add-track", str(folder), "Bass Stem", str(stem), "--bar", "3", "--role", "bass"]) == 0
    assert cli(["session", "lock", str(folder), "Drums", "--role", "drums"]) == 0
    first = read_session(folder).playlist_of(read_session(folder).track("Keys")).name  # 7: Keys, 8/9: Keys.1
    assert cli(["session", "add-take", str(folder), "Keys", str(take), "--bar", "2"]) == 0
    new = next_take_name("Keys", {first})

    theirs = dump(folder, "Recorded")
    assert sorted(theirs) == ["Bass Stem", "Drums", "Ghost", "Keys"]
    (stem_region,) = theirs["Bass Stem"]
    assert (stem_region["position"], stem_region["start"], stem_region["length"]) == (_bar_of(folder, 3), 0, 96000)
    (keys_region,) = theirs["Keys"]
    assert (keys_region["playlist"], keys_region["position"], keys_region["length"]) == (new, 96000, 48000)
    assert _sorted(theirs) == _ours(folder)

    # Ardour loads and saves the session; our roles, locks and both takes survive.
    dump(folder, "Recorded", save=True)
    s = read_session(folder)
    assert (s.track("Drums").role, s.track("Drums").locked, s.track("Drums").role_guessed) == ("drums", True, False)
    assert (s.track("Bass Stem").role, s.track("Bass Stem").locked) == ("bass", False)
    keys = s.track("Keys")
    assert s.playlist_of(keys).name == new
    assert [p.name for p in s.takes_of(keys)] == [first, new]
    assert len(s.playlists[s.takes_of(keys)[0].id].regions) == 2
    # ...and the old take still plays when chosen again
    assert cli(["session", "use-take", str(folder), "Keys", first]) == 0
    assert dump(folder, "Recorded")["Keys"][0]["position"] == 24000


def _onset_and_end(data: np.ndarray, threshold: float = 1e-4) -> tuple[int, int]:
    loud = np.nonzero(np.abs(data).max(axis=1) > threshold)[0]
    assert loud.size, "the export is silent"
    return int(loud[0]), int(loud[-1]) + 1


def _burst(path: Path, seconds: float, rate: int = 48000, channels: int = 2) -> Path:
    rng = np.random.default_rng(7)
    sf.write(str(path), rng.uniform(-0.5, 0.5, (int(seconds * rate), channels)), rate, subtype="PCM_24")
    return path


def test_export_plays_new_track_exactly_where_placed(empty_session: Path, tmp_path: Path) -> None:
    folder = empty_session
    stem = _burst(tmp_path / "burst.wav", 1.0)
    assert cli(["session", "add-track", str(folder), "Stem", str(stem), "--bar", "3"]) == 0
    data, rate = export(folder, "Empty", tmp_path / "mix.wav")
    assert rate == 48000
    onset, end = _onset_and_end(data)
    placed = _bar_of(folder, 3)
    assert abs(onset - placed) <= 48, f"stem starts at {onset}, placed at {placed} (1 ms = 48 samples)"
    assert abs(end - (placed + 48000)) <= 48


@pytest.mark.parametrize("version,bar", [("6000", 6), ("7003", 14)])
def test_export_of_handmade_sessions_after_new_take(ardour: None, handmade: Callable[[str], Path],
                                                    tmp_path: Path, version: str, bar: int) -> None:
    """A take on a tempo-changing (6000) or ramped (7003, bar 14) map plays at the bar's sample."""
    folder = handmade(version)
    s = read_session(folder)
    track = s.tracks[0]
    pos = s.tempo_map.samples_at_bar(bar)
    ed = SessionEditor(s)
    ed.add_take(track.name, [Clip(_burst(tmp_path / "b.wav", 0.5), pos)])
    if version == "7003":
        ed.set_role("Keys", locked=True)  # a MIDI track keeps its empty MIDI region; silence it anyway
    ed.commit()
    data, _ = export(folder, folder.name, tmp_path / "mix.wav")
    onset, end = _onset_and_end(data)
    assert abs(onset - pos) <= 48 and abs(end - (pos + 24000)) <= 48
    after = read_session(folder)
    take = after.playlist_of(after.track(track.name))
    assert take.name.startswith(f"{track.name}.") and len(take.regions) == 1
    assert dump(folder, folder.name)[track.name][0]["playlist"] == take.name


def test_refuses_a_session_open_in_ardour(recorded_copy: Path, tmp_path: Path) -> None:
    folder = recorded_copy
    with ardour_tools.hold_open(folder, "Recorded"):
        before = folder_state(folder)
        stem = write_wav(tmp_path / "s.wav", 0.5)
        with pytest.raises(SessionOpenInArdour, match="open in Ardour"):
            ed = SessionEditor(read_session(folder))
            ed.add_audio_track("New", [Clip(stem, 0)])
            ed.commit()
        assert cli(["session", "add-track", str(folder), "New", str(stem)]) == 3  # refused: exit 3
        assert folder_state(folder) == before
        # a lock is not refused: like OSC and MCP, the CLI keeps it beside the file while Ardour has it
        xml = (folder / "Recorded.ardour").read_bytes()
        assert cli(["session", "lock", str(folder), "Drums"]) == 0
        assert (folder / "Recorded.ardour").read_bytes() == xml and read_session(folder).track("Drums").locked


def test_unchanged_ardour_file_round_trips_byte_for_byte(recorded_session: Path) -> None:
    s = read_session(recorded_session)
    assert SessionEditor(s).serialize() == s.document.data


def test_copy_of_session_folder_is_independent(recorded_session: Path, tmp_path: Path) -> None:
    # guard for the fixtures themselves: tests that write use copies
    dest = tmp_path / "c"
    shutil.copytree(recorded_session, dest)
    assert folder_state(dest) == folder_state(recorded_session)
