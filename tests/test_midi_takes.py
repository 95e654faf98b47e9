"""Regenerating bars of a MIDI take, checked by each Ardour (7.3 here, 8.12 and 9.8 in their chroots).

The part lands as a MIDI track; the user changes a note in Ardour itself (Ardour's Lua, a MIDI edit
command, and a save, as a click in the editor would); bars 3-4 are regenerated. Ardour then plays a
new playlist whose notes outside bars 3-4 are the old take's (the user's edit among them), the old
take is kept as it was, and the new bars are new.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bridge.ardour import read_session
from bridge.ardour.programs import ArdourInstall
from tests import ardour_tools
from tests.test_midi_track import _ticks

pytestmark = pytest.mark.ardour

# Beats print as "B:T" (1920 ticks a quarter); a note's time is from its source's start, the region
# plays its source from the region's start: here both at the source's start
LUA_TAKES = """
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
local function notes (tag, pl)
	for r in pl:region_list ():iter () do
		print (tag .. "-REGION|" .. pl:name () .. "|" .. tostring (r:position ():beats ()))
		for n in ARDOUR.LuaAPI.note_list (r:to_midiregion ():model ()):iter () do
			print (tag .. "|" .. n:note () .. "|" .. tostring (n:time ()) .. "|" .. tostring (n:length ()))
		end
	end
end
local t = s:route_by_name ("Bass"):to_track ()
notes ("PLAYS", t:playlist ())
local old = s:playlists ():by_name (os.getenv ("OLD"))
if not old:isnil () then notes ("OLD", old) end
print ("LUA-DONE")
io.stdout:flush ()
close_session ()
quit ()
"""

# the user's edit: the first note a whole tone up
LUA_EDIT = """
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
local t = s:route_by_name ("Bass"):to_track ()
for r in t:playlist ():region_list ():iter () do
	local mm = r:to_midiregion ():model ()
	local cmd = mm:new_note_diff_command ("transpose")
	for n in ARDOUR.LuaAPI.note_list (mm):iter () do
		cmd:remove (n)
		cmd:add (ARDOUR.LuaAPI.new_noteptr (n:channel (), n:time (), n:length (), n:note () + 2, n:velocity ()))
		print ("EDITED|" .. n:note () .. "|" .. tostring (n:time ()))
		break
	end
	if not pcall (function () mm:apply_diff_command_as_commit (s, cmd) end) then
		mm:apply_command (s, cmd)  -- Ardour 7
	end
end
s:save_state ("", false, false, false, false, false)
print ("LUA-DONE")
io.stdout:flush ()
close_session ()
quit ()
"""


def _notes(out: str, tag: str) -> list[tuple[int, int, int]]:
    return [(int(x[1]), _ticks(x[2]), _ticks(x[3])) for x in (line.split("|") for line in out.splitlines())
            if x[0] == tag]


@pytest.mark.parametrize("ardour,major", ardour_tools.params())
def test_regenerating_bars_of_a_midi_take_keeps_the_rest_and_the_old_take(
        ardour: ArdourInstall | None, major: int, tmp_path: Path, monkeypatch) -> None:
    a = ardour_tools.require(ardour, major)
    folder = ardour_tools.new_session(tmp_path, "Song", ardour=a)
    import pretty_midi

    sf2 = folder / "externals" / "TimGM6mb.sf2"  # where Ardour in a chroot sees it too
    sf2.parent.mkdir(exist_ok=True)
    shutil.copy(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2", sf2)
    monkeypatch.setenv("RESONANT_SOUNDFONT", str(sf2))
    from bridge.core.config import load_config
    from bridge.core.service import BridgeService
    from tests.test_service import wait

    song = folder / "Song.ardour"
    config = load_config(data_dir=str(tmp_path / "data"), env={})

    def run_job(start) -> dict:
        """One job through a fresh service (as a daemon run would take it), waited for to its end."""
        async def go() -> dict:
            svc = await BridgeService.start(config)
            try:
                return await wait(svc, (await start(svc))["id"])
            finally:
                await svc.stop()

        return asyncio.run(go())

    done = run_job(lambda svc: svc.generate(str(song), ["bass"], bars=6, seed=5, deliver="midi", extend=True))
    assert done["status"] == "done", done["error"]
    (track,) = done["delivery"]["tracks"]
    assert (track["track"], track["kind"]) == ("Bass", "midi")
    old_take = track["take"]

    edited = ardour_tools.lua_text(LUA_EDIT, tmp_path, a, SDIR=str(folder), SNAME="Song")
    assert "EDITED|" in edited and ardour_tools.problems(edited) == [], edited
    before = ardour_tools.lua_text(LUA_TAKES, tmp_path, a, SDIR=str(folder), SNAME="Song", OLD=old_take)
    old = _notes(before, "PLAYS")
    first = next(line for line in edited.splitlines() if line.startswith("EDITED|")).split("|")
    assert (int(first[1]) + 2, _ticks(first[2])) in [(p, t) for p, t, _ in old], "Ardour did not keep the edit"

    again = run_job(lambda svc: svc.regenerate(str(song), "Bass", bars="3-4", seed=11, loyalty=0.0))
    assert again["status"] == "done", again["error"]
    (take,) = again["delivery"]["tracks"]
    assert take["kind"] == "midi" and take["track"] == "Bass" and take["take"] != old_take
    assert take["changed_bars"] == [3, 4]

    out = ardour_tools.lua_text(LUA_TAKES, tmp_path, a, SDIR=str(folder), SNAME="Song", OLD=old_take)
    assert ardour_tools.problems(out) == [], ardour_tools.problems(out)
    lines = [line.split("|") for line in out.splitlines()]
    assert [x[1] for x in lines if x[0] == "PLAYS-REGION"] == [take["take"]], "Ardour does not play the new take"
    assert _notes(out, "OLD") == old, "the old take changed"
    new = _notes(out, "PLAYS")
    s = read_session(song)
    tm = s.tempo_map
    origin = round(tm.quarters_at_bbt(1) * 1920)  # both takes start at bar 1: notes are from there
    bar3, bar5 = round(tm.quarters_at_bbt(3) * 1920) - origin, round(tm.quarters_at_bbt(5) * 1920) - origin
    early = round(0.06 * 1920)  # a note played just ahead of a bar line belongs to the bar it leads into

    def outside(notes: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        return [n for n in notes if n[1] + n[2] <= bar3 - early or n[1] >= bar5 - early]

    assert outside(new) == outside(old) and outside(old)
    inside_old = [n for n in old if bar3 - early <= n[1] < bar5 - early]
    inside_new = [n for n in new if bar3 - early <= n[1] < bar5 - early]
    assert inside_new and inside_new != inside_old, "bars 3-4 were not regenerated"
    # the session as the bridge reads it: the new take plays, the old one is kept
    assert s.playlist_of(s.track("Bass")).name == take["take"]
    assert old_take in {p.name for p in s.playlists.values()}
