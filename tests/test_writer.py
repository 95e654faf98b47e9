"""The writer on hand-written sessions: ids, names, takes, roles, ranges, version syntax, safety."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import soundfile as sf
from lxml import etree

from bridge.ardour import Clip, SessionEditor, read_session
from bridge.ardour.writer import _max_id
from bridge.errors import SessionChangedOnDisk
from tests.ardour_tools import folder_state
from tests.conftest import write_wav


def _tree(folder: Path) -> etree._Element:
    (f,) = folder.glob("*.ardour")
    return etree.parse(str(f)).getroot()


def test_unchanged_round_trip_keeps_every_byte(handmade: Callable[[str], Path]) -> None:
    for version in ("7003", "6000"):
        folder = handmade(version)
        s = read_session(folder)
        ed = SessionEditor(s)
        data = ed.serialize()
        original = s.document.data
        # Only id-counter may differ (it is rewritten to the next free id, which here is unchanged).
        assert etree.tostring(etree.fromstring(data), method="c14n") == \
            etree.tostring(etree.fromstring(original), method="c14n")


def test_add_track_v7(handmade: Callable[[str], Path], tmp_path: Path) -> None:
    folder = handmade("7003")
    before = read_session(folder)
    max_before = max(before.id_counter, _max_id(before.document.tree))
    stem = write_wav(tmp_path / "in" / "stem.wav", 2.0, channels=2)
    ed = SessionEditor(before)
    pos = before.tempo_map.samples_at_bar(21)  # beyond the old session range
    ed.add_audio_track("New Bass", [Clip(stem, pos)], role="bass", locked=False)
    result = ed.commit()

    s = read_session(folder)
    t = s.track("New Bass")
    assert (t.role, t.locked, t.n_inputs, t.n_outputs, t.role_guessed) == ("bass", False, 2, 2, False)
    (r,) = s.regions_of(t)
    assert (r.position, r.start, r.length, r.channels) == (pos, 0, 96000, 2)
    assert r.length_text.endswith(f"@a{pos * 5880}")
    srcs = [s.sources[i] for i in r.source_ids]
    assert [x.channel for x in srcs] == [0, 1] and srcs[0].path == srcs[1].path
    assert srcs[0].path.parent == folder / "interchange" / "Handmade7003" / "audiofiles"
    assert sf.info(str(srcs[0].path)).frames == 96000
    assert result.created == [srcs[0].path]
    # every new id is above the old counter and every id in the old file; the counter covers them
    root = _tree(folder)
    new_ids = {int(e.get("id")) for e in root.iter() if e.get("id", "").isdigit()} - \
        {int(e.get("id")) for e in before.document.tree.iter() if e.get("id", "").isdigit()}
    assert new_ids and min(new_ids) > max_before and int(root.get("id-counter")) > max(new_ids)
    assert s.session_range == (0, pos + 96000)
    # the old content is still there, the backup holds the old bytes
    assert [x.name for x in s.tracks] == ["Drums", "Keys", "New Bass"]
    assert (folder / "Handmade7003.ardour.bak").read_bytes() == before.document.data
    assert result.backup.read_bytes() == before.document.data


def test_add_track_v6_writes_sample_syntax(handmade: Callable[[str], Path], tmp_path: Path) -> None:
    folder = handmade("6000")
    s = read_session(folder)
    stem = write_wav(tmp_path / "stem.wav", 1.0)
    ed = SessionEditor(s)
    ed.add_audio_track("Pad", [Clip(stem, 896000)], role="harmony", locked=True)
    ed.commit()
    root = _tree(folder)
    assert root.get("version") == "6000"
    pl = next(p for p in root.iter("Playlist") if p.get("name") == "Pad")
    reg = pl.find("Region")
    assert (reg.get("position"), reg.get("start"), reg.get("length")) == ("896000", "0", "48000")
    assert "@" not in reg.get("length") and reg.get("positional-lock-style") == "AudioTime"
    # bar 9 is 32 quarter-note beats in
    assert float(reg.get("beat")) == pytest.approx(32.0)
    route = next(r for r in root.iter("Route") if r.get("name") == "Pad")
    assert route.get("version") == "6000"
    s2 = read_session(folder)
    assert s2.track("Pad").locked and s2.track("Pad").role == "harmony"
    assert s2.session_range == (0, 960000)  # already long enough


def test_take_keeps_old_playlist_and_names_files_uniquely(handmade: Callable[[str], Path],
                                                           tmp_path: Path) -> None:
    folder = handmade("6000")
    stem = write_wav(tmp_path / "bass.wav", 1.0)  # same basename as the session's own bass.wav
    for _ in range(2):
        s = read_session(folder)
        ed = SessionEditor(s)
        ed.add_take("Bass Guitar", [Clip(stem, 0)])
        ed.commit()
    s = read_session(folder)
    t = s.track("Bass Guitar")
    takes = s.takes_of(t)
    assert [p.name for p in takes] == ["Bass Guitar", "Bass Guitar.1", "Bass Guitar.2"]
    assert s.playlist_of(t).name == "Bass Guitar.2"
    assert [p.unused for p in takes] == [True, True, False]
    assert len(s.regions_of(t)) == 1 and s.regions_of(t)[0].position == 0
    files = sorted(p.name for p in (folder / "interchange" / "Handmade6000" / "audiofiles").iterdir())
    assert files == ["Bass_Guitar.1.wav", "Bass_Guitar.2.wav", "bass.wav"]
    # going back to the first take
    ed = SessionEditor(s)
    ed.use_take("Bass Guitar", "Bass Guitar")
    ed.commit()
    s = read_session(folder)
    assert s.playlist_of(s.track("Bass Guitar")).name == "Bass Guitar"
    assert len(s.regions_of(s.track("Bass Guitar"))) == 2


def test_lock_unlock_and_clear(handmade: Callable[[str], Path]) -> None:
    folder = handmade("7003")
    ed = SessionEditor(read_session(folder))
    ed.set_role("Keys", role="melody", locked=True)
    ed.set_role("Drums", locked=False)
    ed.commit()
    s = read_session(folder)
    assert (s.track("Keys").role, s.track("Keys").locked) == ("melody", True)
    assert (s.track("Drums").role, s.track("Drums").locked) == ("drums", False)
    ed = SessionEditor(s)
    ed.set_role("Keys", clear=True)
    ed.commit()
    s = read_session(folder)
    assert (s.track("Keys").locked, s.track("Keys").role_guessed) == (False, True)


def test_resample_on_request(handmade: Callable[[str], Path], tmp_path: Path) -> None:
    folder = handmade("7003")
    stem = write_wav(tmp_path / "low.wav", 1.5, rate=24000, freq=440.0)
    ed = SessionEditor(read_session(folder), resample=True)
    ed.add_audio_track("Hi", [Clip(stem, 0)])
    ed.commit()
    s = read_session(folder)
    (r,) = s.regions_of(s.track("Hi"))
    path = s.sources[r.source_ids[0]].path
    info = sf.info(str(path))
    assert (info.samplerate, info.frames, r.length) == (48000, 72000, 72000)
    # still a 440 Hz tone, not one an octave off
    import numpy as np

    data, _ = sf.read(str(path))
    spectrum = np.abs(np.fft.rfft(data[4800:4800 + 48000]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=1)


def test_refuses_when_changed_on_disk(handmade: Callable[[str], Path], tmp_path: Path) -> None:
    folder = handmade("7003")
    s = read_session(folder)
    ed = SessionEditor(s)
    ed.add_audio_track("Late", [Clip(write_wav(tmp_path / "x.wav", 0.5), 0)])
    file = folder / "Handmade7003.ardour"
    file.write_bytes(file.read_bytes().replace(b"Handmade7003\" sample", b"Handmade7003\"  sample"))
    before = folder_state(folder)
    with pytest.raises(SessionChangedOnDisk):
        ed.commit()
    assert folder_state(folder) == before
