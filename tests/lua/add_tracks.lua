-- Add empty audio tracks the way a user does in Ardour (TRACKS="A,B"), then save: a session that
-- really is that Ardour's, with its own playlist names (7: "A", 8 and 9: "A.1"), inputs unplugged.
local function no_group () local ok, g = pcall (ARDOUR.RouteGroup); if ok then return g end return nil end
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
for name in os.getenv ("TRACKS"):gmatch ("[^,]+") do
  local t = s:new_audio_track (2, 2, no_group (), 1, name, ARDOUR.PresentationInfo.max_order,
    ARDOUR.TrackMode.Normal, true):front ()
  -- no live input: the export tools run a backend whose capture ports carry signal
  for c = 0, 1 do t:input ():audio (c):disconnect_all () end
  print ("made\t" .. t:name () .. "\t" .. t:playlist ():name ())
end
s:save_state ("", false, false, false, false, false)
print ("LUA-DONE")
io.stdout:flush () -- the tools of 8 and 9 may abort at exit, before stdio is flushed
close_session ()
quit ()
