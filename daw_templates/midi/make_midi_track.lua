-- The MIDI track a part is delivered on, as Ardour itself makes it: one MIDI input, stereo out, ACE Fluid
-- Synth (Ardour's bundled a-fluidsynth.lv2) as its instrument, or the one named in SYNTH (ACE Reasonable Synth). scripts/make-midi-templates runs this in
-- each Ardour's Lua (7 here, 8 and 9 in their chroots) on a new session and keeps the route's XML as
-- daw_templates/midi/track-ardourN.xml, for the writer to clone (bridge/ardour/miditrack.py).
local function no_group () local ok, g = pcall (ARDOUR.RouteGroup); if ok then return g end return nil end
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
local name = os.getenv ("SYNTH") or "ACE Fluid Synth"
local synth = ARDOUR.LuaAPI.new_plugin_info (name, ARDOUR.PluginType.LV2)
assert (not synth:isnil (), name .. " is not installed")
local tl = s:new_midi_track (ARDOUR.ChanCount (ARDOUR.DataType ("midi"), 1), ARDOUR.ChanCount (ARDOUR.DataType ("audio"), 2),
	true, synth, nil, no_group (), 1, "Part", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
assert (tl:size () == 1, "no track made")
s:save_state ("", false, false, false, false, false)
print ("LUA-DONE")
io.stdout:flush ()
close_session ()
quit ()
