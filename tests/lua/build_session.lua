-- Build a test session the way a user would, inside Ardour itself: two tracks (mono Drums,
-- stereo Keys) recorded from the Dummy backend's sine generator, then regions copied, trimmed,
-- moved, muted, re-layered, made transparent and given region gain.
-- SDIR/SNAME name a session made by ardour7-new_session.
-- "no route group": Ardour 9 crashes on nil (a shared pointer now) and wants RouteGroup (); 7/8 want nil
local function no_group () local ok, g = pcall (ARDOUR.RouteGroup); if ok then return g end return nil end
local be = AudioEngine:set_backend ("None (Dummy)", "", "")
be:set_device_name ("Sine Wave")
be:set_sample_rate (48000)
assert (AudioEngine:start (false) == 0)
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
local function track (chans, name)
  local tl = s:new_audio_track (chans, 2, no_group (), 1, name, ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
  local t = tl:front ()
  for c = 0, chans - 1 do t:input ():audio (c):disconnect_all (); t:input ():audio (c):connect ("system:capture_" .. (c + 1)) end
  t:rec_enable_control ():set_value (1, PBD.GroupControlDisposition.NoGroup)
  return t
end
local drums = track (1, "Drums")
local keys = track (2, "Keys")
s:maybe_enable_record (false)
s:request_roll (ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep (2500000)
s:request_stop (false, false, ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep (500000)
s:disable_record (false, false)
drums:rec_enable_control ():set_value (0, PBD.GroupControlDisposition.NoGroup)
keys:rec_enable_control ():set_value (0, PBD.GroupControlDisposition.NoGroup)
-- edits: copy, trim, move, mute, layer
local pl = drums:playlist ()
local function first (p) for r in p:region_list ():iter () do return r end end
local orig = first (pl)
local c1 = ARDOUR.RegionFactory.clone_region (orig, false, false)
pl:add_region (c1, Temporal.timepos_t (120000), 1, false)
c1:trim_front (Temporal.timepos_t (132000))
c1:set_length (Temporal.timecnt_t (30000))
local c2 = ARDOUR.RegionFactory.clone_region (orig, false, false)
pl:add_region (c2, Temporal.timepos_t (48000), 1, false)
c2:set_muted (true)
c2:set_length (Temporal.timecnt_t (24000))
orig:raise_to_top ()
local kpl = keys:playlist ()
local k = first (kpl)
k:set_position (Temporal.timepos_t (24000))
k:to_audioregion ():set_scale_amplitude (0.5)
k:set_opaque (false)
-- an opaque region on top of it with long fades (so the layer below cross-fades) and an envelope
local k2 = ARDOUR.RegionFactory.clone_region (k, false, false)
kpl:add_region (k2, Temporal.timepos_t (60000), 1, false)
k2:set_length (Temporal.timecnt_t (40000))
k2:set_opaque (true)
local a2 = k2:to_audioregion ()
a2:set_scale_amplitude (1.0)
a2:set_fade_in_length (4800)
a2:set_fade_in_shape (ARDOUR.FadeShape.FadeLinear)
a2:set_fade_out_length (9600)
a2:set_envelope_active (true)
local env = a2:envelope ()
env:clear_list ()
env:add (Temporal.timepos_t (0), 0.3, false, false)
env:add (Temporal.timepos_t (20000), 1.2, false, false)
env:add (Temporal.timepos_t (40000), 0.6, false, false)
k2:raise_to_top ()
c1:to_audioregion ():set_fade_out_length (6000)
-- track-level: fader gain, pan, and a muted third track that must stay silent
keys:gain_control ():set_value (0.7, PBD.GroupControlDisposition.NoGroup)
drums:pan_azimuth_control ():set_value (0.3, PBD.GroupControlDisposition.NoGroup)
local ghost = s:new_audio_track (1, 2, no_group (), 1, "Ghost", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front ()
ghost:playlist ():add_region (ARDOUR.RegionFactory.clone_region (orig, false, false), Temporal.timepos_t (10000), 1, false)
ghost:mute_control ():set_value (1, PBD.GroupControlDisposition.NoGroup)
ARDOUR.LuaAPI.usleep (300000) -- mute is a realtime control: let the process thread apply it
s:save_state ("", false, false, false, false, false)
print ("LUA-DONE")
io.stdout:flush () -- the tools of 8 and 9 may abort at exit, before stdio is flushed
close_session ()
quit ()
