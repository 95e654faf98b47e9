"""MIDI into a session open in Ardour's GUI (7.3 here, 8.12 and 9.8 in their chroots, under Xvfb), the
way a musician gets it: the daemon drops the part, Ardour's hook makes a MIDI track from the route
template beside it (ACE Fluid Synth with the part's SoundFont) and imports the notes; a regeneration
of bars 2-3 becomes a new MIDI take. Then Ardour itself lists the notes and exports the track."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.ardour import SessionEditor, read_session
from bridge.ardour.live import inbox
from bridge.ardour.live.client import ArdourOsc
from bridge.ardour.programs import ArdourInstall
from bridge.audio.midi import read_smf
from tests import ardour_tools, gui_tools
from tests.daemon_tools import OscClient, start_daemon
from tests.figures import figure
from tests.test_hotdrop import read_job
from tests.test_midi_takes import LUA_TAKES, _notes
from tests.test_midi_track import RATE, _onsets, _spectrum

pytestmark = pytest.mark.ardour
LUA_PLUGINS = """
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
local t = s:route_by_name (os.getenv ("TRACK"))
for i = 0, 8 do
	local p = t:nth_plugin (i)
	if p:isnil () then break end
	print ("PLUGIN|" .. p:display_name ())
end
print ("LUA-DONE")
io.stdout:flush ()
close_session ()
quit ()
"""


def _wait(c: OscClient, job: str, seconds: float = 240) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _, st = c.ask("/resonant/job/status", job)
        if st[1] in ("done", "failed", "cancelled"):
            return st
        time.sleep(0.5)
    raise AssertionError(f"job {job} did not end")


def _save(folder: Path, name: str) -> None:
    """Ardour's own save (OSC /save_state), so that the daemon reads what Ardour made."""
    path = folder / f"{name}.ardour"
    with ArdourOsc() as ardour:
        mtime = path.stat().st_mtime_ns
        ardour.save_state()
        for _ in range(100):
            if path.stat().st_mtime_ns != mtime:
                break
            time.sleep(0.1)
    time.sleep(0.5)


def _ticks_from(notes: list[tuple[float, float, int, int]]) -> list[tuple[int, int, int]]:
    return [(p, round(s * 1920), round((e - s) * 1920)) for s, e, p, _ in notes]


@pytest.mark.parametrize("ardour,major", ardour_tools.params())
def test_midi_parts_reach_an_open_session_through_the_hook(ardour: ArdourInstall | None, major: int,
                                                          tmp_path: Path) -> None:
    a = gui_tools.require_gui(ardour_tools.require(ardour, major))
    folder = ardour_tools.new_session(tmp_path, "Live", ardour=a)
    ed = SessionEditor(read_session(folder))
    ed.set_control_protocol("Open Sound Control (OSC)", True)
    ed.commit()
    import pretty_midi

    sf2 = folder / "externals" / "TimGM6mb.sf2"  # where Ardour in a chroot sees it too
    sf2.parent.mkdir(exist_ok=True)
    shutil.copy(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2", sf2)
    proc, port = start_daemon(tmp_path / "data", env={"RESONANT_ACK_TIMEOUT_S": "120",
                                                      "RESONANT_SOUNDFONT": str(sf2)})
    c = OscClient(port, timeout=10)
    try:
        with gui_tools.ardour_gui(folder / "Live.ardour", tmp_path, ardour=a):
            before = (folder / "Live.ardour").read_bytes()
            # path roles prompt bars first_bar seed extend request deliver
            _, (gen,) = c.ask("/resonant/generate", str(folder), "bass", "funk", 4, 2, 3, 1, "", "both")
            st = _wait(c, gen)
            assert st[1] == "done", (st, proc.log_path.read_text()[-3000:])
            assert (folder / "Live.ardour").read_bytes() == before  # the bridge never wrote it
            _save(folder, "Live")
            # path track bars prompt seed extend request deliver: a MIDI track's take is MIDI by default
            _, (regen,) = c.ask("/resonant/regenerate", str(folder), "Bass MIDI", "3-4", "", 8)
            st = _wait(c, regen)
            assert st[1] == "done", (st, proc.log_path.read_text()[-3000:])
            assert inbox.waiting(folder / inbox.INBOX_DIR) == []
            _save(folder, "Live")
        jobs = {j: read_job(tmp_path, port, j) for j in (gen, regen)}
        # the GUI said nothing about the track, its synth or its notes
        said = gui_tools.gui_complaints(tmp_path)
        assert said == [], said
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)

    made = jobs[gen]["delivery"]
    assert made["method"] == "ardour"
    assert [(t["track"], t.get("kind", "audio")) for t in made["tracks"]] == [("Bass", "audio"), ("Bass MIDI", "midi")]
    first_take = made["tracks"][1]["take"]
    (again,) = jobs[regen]["delivery"]["tracks"]
    assert again["kind"] == "midi" and again["track"] == "Bass MIDI" and again["take"] != first_take

    s = read_session(folder)
    midi = s.track("Bass MIDI")
    assert midi.kind == "midi" and midi.role == "bass"
    assert s.playlist_of(midi).name == again["take"]
    out = ardour_tools.lua_text(LUA_PLUGINS, tmp_path, a, SDIR=str(folder), SNAME="Live", TRACK="Bass MIDI")
    assert "PLUGIN|ACE Fluid Synth" in out, out
    listed = ardour_tools.lua_text(LUA_TAKES.replace('route_by_name ("Bass")', 'route_by_name ("Bass MIDI")'),
                                   tmp_path, a, SDIR=str(folder), SNAME="Live", OLD=first_take)
    assert ardour_tools.problems(listed) == [], ardour_tools.problems(listed)
    # the first take is the generated part, note for note (within a tick), and it is kept
    stem = read_smf(Path(jobs[gen]["stems"][0]["mid"]).read_bytes())
    old = _notes(listed, "OLD")
    assert len(old) == len(stem) and old
    for (p, t, n), (sp, st_, sn) in zip(old, _ticks_from(stem), strict=True):
        assert p == sp and abs(t - st_) <= 1 and abs(n - sn) <= 1
    # the new take: bars 3-4 new, the rest the old take's notes
    new = _notes(listed, "PLAYS")
    tm = s.tempo_map
    origin = round(tm.quarters_at_bbt(2) * 1920)
    bar3, bar5 = round(tm.quarters_at_bbt(3) * 1920) - origin, round(tm.quarters_at_bbt(5) * 1920) - origin
    assert bar3 > 0 and bar5 > bar3
    early = round(0.06 * 1920)
    def outside(notes: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        return [n for n in notes if n[1] + n[2] <= bar3 - early or n[1] >= bar5 - early]

    def inside(notes: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        return [n for n in notes if bar3 - early <= n[1] < bar5 - early]

    assert outside(new) == outside(old) and outside(old)
    assert inside(new) != inside(old), "bars 3-4 were not regenerated"

    # Ardour's export of the MIDI track alone (the audio track's fader down) against the audio stem
    ed = SessionEditor(s)
    ed.set_track_gain("Bass", 0.0)
    ed.commit()
    mix, rate = ardour_tools.export(folder, "Live", tmp_path / "mix.wav", a)
    assert rate == RATE
    take = jobs[regen]["stems"][0]
    audio, _ = sf.read(take["wav"], dtype="float32")
    pos = int(take["start"]) - read_session(folder).session_range[0]  # the export starts at the session's start
    played = mix[pos:pos + audio.shape[0]]
    assert np.sqrt((played ** 2).mean()) > 1e-3, "the MIDI track is silent in Ardour's export"
    notes = read_smf(Path(take["mid"]).read_bytes())
    q0 = tm.quarters_at_samples(int(take["start"]))
    starts = sorted({tm.samples_at_quarters(q0 + n[0]) - int(take["start"]) for n in notes})
    starts = [x for i, x in enumerate(starts) if i == 0 or x - starts[i - 1] > RATE // 20][1:]  # skip the SF2 load
    a_on, b_on = _onsets(played, starts), _onsets(audio, starts)
    worst = max(abs(x - y) for x, y in zip(a_on, b_on, strict=True)) / RATE * 1000
    figure(f"ardour{major} open session: MIDI take onsets vs the audio stem, worst (ms)", round(worst, 2), "<= 5")
    assert worst <= 5.0, (a_on, b_on)
    # the synth plays at the gain the stem's render got; what is left is how fluidsynth and the bridge's
    # renderer weigh velocity and each instrument (a few dB)
    from bridge.audio.features import integrated_loudness

    level = integrated_loudness(played, RATE) - integrated_loudness(audio, RATE)
    figure(f"ardour{major} open session: MIDI take loudness minus the audio stem's (LU)", round(level, 2), "|x| <= 8")
    assert abs(level) <= 8.0, level
    similarity = float(np.corrcoef(_spectrum(played), _spectrum(audio))[0, 1])
    figure(f"ardour{major} open session: MIDI take spectrum vs the audio stem (dB-spectrum correlation)",
           round(similarity, 3), ">= 0.8")
    assert similarity >= 0.8, similarity
