-- Build a test session the way a user would, inside Ardour itself: two tracks (mono Drums,
-- stereo Keys) recorded from the Dummy backend's sine generator, then regions copied, trimmed,
-- moved, muted, re-layered, made transparent and given region gain.
-- SDIR/SNAME name a session made by ardour7-new_session.
local be = AudioEngine:set_backend ("None (Dummy)", "", "")
be:set_device_name ("Sine Wave")
be:set_sample_rate (48000)
assert (AudioEngine:start (false) == 0)
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
local function track (chans, name)
  local tl = s:new_audio_track (chans, 2, nil, 1, name, ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
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
s:save_state ("", false, false, false, false, false)
close_session ()
quit ()
