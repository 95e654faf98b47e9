"""A part delivered as a MIDI track into a closed session, checked by each Ardour (7.3 here, 8.12 and
9.8 in their chroots): it loads with no complaint; Ardour's Lua lists the part's notes (pitch, start
within a tick, length); Ardour's export plays it through ACE Fluid Synth with the SoundFont the audio
stem was rendered with, its onsets within 5 ms of the stem's, its spectrum like the stem's."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bridge.ardour import SessionEditor, read_session
from bridge.ardour.programs import ArdourInstall
from bridge.music.parts.common import NoteEvent
from tests import ardour_tools
from tests.figures import figure

pytestmark = pytest.mark.ardour
RATE = 48000
LUA_NOTES = """
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
for t in s:get_tracks ():iter () do
	if not t:to_track ():to_midi_track ():isnil () then
		for r in t:to_track ():playlist ():region_list ():iter () do
			print ("REGION|" .. t:name () .. "|" .. tostring (r:position ():beats ()))
			for n in ARDOUR.LuaAPI.note_list (r:to_midiregion ():model ()):iter () do
				print ("NOTE|" .. n:note () .. "|" .. tostring (n:time ()) .. "|" .. tostring (n:length ()))
			end
		end
		for i = 0, 8 do
			local p = t:nth_plugin (i)
			if p:isnil () then break end
			print ("PLUGIN|" .. p:display_name ())
		end
	end
end
print ("LUA-DONE")
io.stdout:flush ()
close_session ()
quit ()
"""


def _ticks(beats: str) -> int:
    """Ardour's Temporal::Beats as printed ("B:T", 1920 ticks a quarter) in ticks."""
    b, t = beats.split(":")
    return int(b) * 1920 + int(t)


def _bass() -> list[NoteEvent]:
    """Two bars of an E minor bass line with rests, an octave jump and a held note."""
    line = [(0, 0.5, 40), (1, 0.5, 40), (1.5, 0.5, 43), (2, 1.0, 45), (3.5, 0.5, 52),
            (4, 0.75, 47), (5, 0.5, 48), (6, 1.75, 45)]
    return [NoteEvent(start, dur, pitch, 100) for start, dur, pitch in line]


def _onsets(x: np.ndarray, starts: list[int], rate: int = RATE) -> list[int]:
    """Where each note starts: the first sample, near its expected start, above a tenth of the peak that
    follows it (the same rule for Ardour's export and the stem)."""
    mono = np.abs(x.mean(axis=1)) if x.ndim == 2 else np.abs(x)
    out = []
    for s in starts:
        a, b = max(0, s - rate // 50), min(len(mono), s + rate // 10)
        seg = mono[a:b]
        level = seg.max() * 0.1
        out.append(a + int(np.argmax(seg > level)))
    return out


def _spectrum(x: np.ndarray, rate: int = RATE) -> np.ndarray:
    mono = x.mean(axis=1) if x.ndim == 2 else x
    frames = np.lib.stride_tricks.sliding_window_view(mono, 4096)[::1024] * np.hanning(4096)
    mag = np.abs(np.fft.rfft(frames, axis=1)).mean(axis=0)
    f = np.fft.rfftfreq(4096, 1 / rate)
    band = (f >= 30) & (f <= 8000)
    return 20 * np.log10(mag[band] + 1e-9)


@pytest.mark.parametrize("ardour,major", ardour_tools.params())
def test_a_part_as_a_midi_track_plays_in_ardour_like_its_audio_stem(ardour: ArdourInstall | None, major: int,
                                                                   tmp_path: Path, monkeypatch) -> None:
    a = ardour_tools.require(ardour, major)
    folder = ardour_tools.new_session(tmp_path, "Song", ardour=a)
    # the SoundFont inside the session, where Ardour in a chroot sees it too (a user's system one works alike)
    import pretty_midi

    sf2 = folder / "externals" / "TimGM6mb.sf2"
    sf2.parent.mkdir(exist_ok=True)
    shutil.copy(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2", sf2)
    monkeypatch.setenv("RESONANT_SOUNDFONT", str(sf2))
    from bridge.audio.synth import musical_smf, render_notes

    s = read_session(folder)
    tm = s.tempo_map
    notes = _bass()
    first_q = 4.0  # bar 2 at 120 BPM in 4/4: the synth has a moment to load its SoundFont
    position = tm.samples_at_quarters(first_q)
    frames = tm.samples_at_quarters(first_q + 8) - position
    stem = render_notes(notes, 33, False, tm, first_q, frames)
    smf = tmp_path / "bass.mid"
    smf.write_bytes(musical_smf(notes, 33, False, tm, first_q, "bass"))
    ed = SessionEditor(s)
    ed.add_midi_track("Bass", smf, position, sf2, role="bass")
    ed.commit()
    after = read_session(folder)
    assert after.track("Bass").kind == "midi" and after.track("Bass").role == "bass"

    out = ardour_tools.lua_text(LUA_NOTES, tmp_path, a, SDIR=str(folder), SNAME="Song")
    assert ardour_tools.problems(out) == [], ardour_tools.problems(out)
    lines = [line.split("|") for line in out.splitlines()]
    assert [x[2] for x in lines if x[0] == "REGION"] == ["4:0"]
    assert "ACE Fluid Synth" in [x[1] for x in lines if x[0] == "PLUGIN"]
    got = [(int(x[1]), _ticks(x[2]), _ticks(x[3])) for x in lines if x[0] == "NOTE"]
    assert len(got) == len(notes)
    for (pitch, start, length), n in zip(got, notes, strict=True):
        assert pitch == n.pitch
        assert abs(start - n.start * 1920) <= 1 and abs(length - n.duration * 1920) <= 1

    mix, rate = ardour_tools.export(folder, "Song", tmp_path / "mix.wav", a)
    assert rate == RATE
    played = mix[position:position + frames]
    assert np.sqrt((played ** 2).mean()) > 1e-3, "the MIDI track is silent in Ardour's export"
    starts = [tm.samples_at_quarters(first_q + n.start) - position for n in notes]
    a_on, b_on = _onsets(played, starts), _onsets(stem, starts)
    worst = max(abs(x - y) for x, y in zip(a_on, b_on, strict=True)) / RATE * 1000
    figure(f"ardour{major} MIDI track onsets vs the audio stem, worst (ms)", round(worst, 2), "<= 5")
    assert worst <= 5.0, (a_on, b_on)
    sa, sb = _spectrum(played), _spectrum(stem)
    similarity = float(np.corrcoef(sa, sb)[0, 1])
    figure(f"ardour{major} MIDI track spectrum vs the audio stem (correlation of dB spectra)", round(similarity, 3),
           ">= 0.8")
    assert similarity >= 0.8, similarity
    # and not because any two renders of these notes look alike: the same notes on a piano score lower
    piano = float(np.corrcoef(sa, _spectrum(render_notes(notes, 0, False, tm, first_q, frames)))[0, 1])
    figure(f"ardour{major} MIDI track spectrum vs the same notes on a piano", round(piano, 3), "< the stem's")
    assert piano < similarity - 0.02, (piano, similarity)


def test_generate_delivers_midi_tracks_audio_tracks_or_both(tmp_path: Path) -> None:
    """Through the service, as every frontend: deliver both makes each part an audio track and a MIDI track
    of the same notes; MusicGen (audio only) and an unknown choice are refused with the reason."""
    import asyncio

    from bridge.ardour import takes
    from bridge.audio.midi import read_smf
    from bridge.core.config import load_config
    from bridge.core.service import BridgeService
    from bridge.errors import InvalidInput
    from tests.test_service import new_session, wait

    song = new_session(tmp_path)
    config = load_config(data_dir=str(tmp_path / "data"), env={})

    async def go() -> None:
        svc = await BridgeService.start(config)
        try:
            job = await svc.generate(str(song), ["bass"], bars=2, seed=3, deliver="both", extend=True)
            done = await wait(svc, job["id"])
            assert done["status"] == "done", done["error"]
            assert [(t["track"], t.get("kind", "audio")) for t in done["delivery"]["tracks"]] == \
                [("Bass", "audio"), ("Bass MIDI", "midi")]
            s = read_session(song)
            assert s.track("Bass").kind == "audio" and s.track("Bass MIDI").kind == "midi"
            (region,) = s.regions_of(s.track("Bass MIDI"))
            src = s.sources[region.source_ids[0]]
            ours = read_smf((song / "interchange" / "Song" / "midifiles" / src.name).read_bytes())
            stem = read_smf(Path(done["stems"][0]["mid"]).read_bytes())
            assert ours == stem and ours  # (start, end, pitch, velocity) each
            # two parts at once: each track's file is indexed to its own part's recipe (regeneration finds it)
            job = await svc.generate(str(song), ["drums", "melody"], bars=2, seed=4, deliver="both", extend=True)
            done = await wait(svc, job["id"])
            assert done["status"] == "done", done["error"]
            s = read_session(song)
            for t in done["delivery"]["tracks"]:
                (region,) = s.regions_of(s.track(t["track"]))
                src = s.sources[region.source_ids[0]].name
                assert takes.key_for_source(song, src) == takes.take_key(job["id"], t["role"]), (t, src)
            with pytest.raises(InvalidInput, match="audio only"):
                await svc.generate(str(song), ["bass"], bars=2, deliver="midi", engine="musicgen")
            with pytest.raises(InvalidInput, match="deliver must be"):
                await svc.generate(str(song), ["bass"], bars=2, deliver="score")
        finally:
            await svc.stop()

    asyncio.run(go())


LUA_TRACKS = """
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
for t in s:get_tracks ():iter () do
	local midi = not t:to_track ():to_midi_track ():isnil ()
	local notes = 0
	for r in t:to_track ():playlist ():region_list ():iter () do
		if midi then notes = notes + ARDOUR.LuaAPI.note_list (r:to_midiregion ():model ()):size () end
	end
	local synth = ""
	for i = 0, 8 do
		local p = t:nth_plugin (i)
		if p:isnil () then break end
		synth = synth .. p:display_name ()
	end
	print ("TRACK|" .. t:name () .. "|" .. tostring (midi) .. "|" .. notes .. "|" .. synth)
end
print ("LUA-DONE")
io.stdout:flush ()
close_session ()
quit ()
"""


@pytest.mark.parametrize("ardour,major", ardour_tools.params())
def test_resonant_new_makes_midi_tracks_ardour_loads(ardour: ArdourInstall | None, major: int, tmp_path: Path,
                                                     monkeypatch) -> None:
    """`resonant new --deliver midi`: each role a MIDI track of the template's name (its audio track left
    out), the notes as the arranger wrote them, ACE Fluid Synth on each; `both` keeps the audio tracks and
    adds NAME MIDI beside them."""
    from bridge.audio.midi import read_smf
    from bridge.core.newsession import create

    a = ardour_tools.require(ardour, major)
    import pretty_midi

    sf2 = tmp_path / "TimGM6mb.sf2"  # under /tmp, where Ardour in a chroot sees it too
    shutil.copy(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2", sf2)
    monkeypatch.setenv("RESONANT_SOUNDFONT", str(sf2))
    for deliver in ("midi", "both"):
        folder = tmp_path / f"New{deliver}"
        r = create(folder, prompt="funk", bars=4, seed=2, deliver=deliver, force=True)
        s = read_session(r.session)
        out = ardour_tools.lua_text(LUA_TRACKS, tmp_path, a, SDIR=str(folder), SNAME=folder.name)
        assert ardour_tools.problems(out) == [], ardour_tools.problems(out)
        listed = {x[1]: x[2:] for x in (line.split("|") for line in out.splitlines()) if x[0] == "TRACK"}
        names = ["Drums", "Bass", "Harmony", "Melody"]
        midi_names = names if deliver == "midi" else [f"{n} MIDI" for n in names]
        assert set(listed) == set(midi_names) | (set() if deliver == "midi" else set(names)), listed
        for n in midi_names:
            midi, notes, synth = listed[n]
            t = s.track(n)
            assert midi == "true" and "ACE Fluid Synth" in synth and t.kind == "midi" and t.role
            (region,) = s.regions_of(t)
            src = s.sources[region.source_ids[0]]
            assert int(notes) == len(read_smf(src.path)) > 0


@pytest.mark.parametrize("ardour,major", ardour_tools.params())
def test_a_midi_track_can_play_through_ace_reasonable_synth(ardour: ArdourInstall | None, major: int,
                                                           tmp_path: Path) -> None:
    """[delivery] midi_synth = "reasonablesynth": the track Ardour made with ACE Reasonable Synth (no
    SoundFont to load), which Ardour loads with no complaint and plays (7.3, 8.12); Ardour 9.8 exports it
    as silence, so there it is refused with the reason."""
    from bridge.audio.synth import musical_smf
    from bridge.core.config import load_config
    from bridge.errors import InvalidInput

    a = ardour_tools.require(ardour, major)
    folder = ardour_tools.new_session(tmp_path, "Song", ardour=a)
    s = read_session(folder)
    notes = _bass()
    smf = tmp_path / "bass.mid"
    smf.write_bytes(musical_smf(notes, 33, False, s.tempo_map, 4.0, "bass"))
    ed = SessionEditor(s)
    if major >= 9:  # its export there is silence: refused with the reason, nothing written
        with pytest.raises(InvalidInput, match="plays nothing"):
            ed.add_midi_track("Bass", smf, 0, Path("/nonexistent.sf2"), role="bass", synth="reasonablesynth")
        return
    ed.add_midi_track("Bass", smf, s.tempo_map.samples_at_quarters(4.0), Path("/nonexistent.sf2"), role="bass",
                      synth="reasonablesynth")
    ed.commit()
    assert not (folder / "plugins").exists() or not any((folder / "plugins").iterdir())  # no state to give
    out = ardour_tools.lua_text(LUA_NOTES, tmp_path, a, SDIR=str(folder), SNAME="Song")
    assert ardour_tools.problems(out) == [], ardour_tools.problems(out)
    assert "PLUGIN|ACE Reasonable Synth" in out
    assert len([line for line in out.splitlines() if line.startswith("NOTE|")]) == len(notes)
    mix, _ = ardour_tools.export(folder, "Song", tmp_path / "mix.wav", a)
    assert np.sqrt((mix ** 2).mean()) > 1e-3, "ACE Reasonable Synth is silent in Ardour's export"
    with pytest.raises(InvalidInput, match="midi_synth"):
        load_config(env={"RESONANT_MIDI_SYNTH": "organ"})
