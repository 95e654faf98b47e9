-- Add location markers the way a user does (MARKERS="Verse@0,Chorus@384000": name@sample), then save.
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
for name, pos in os.getenv ("MARKERS"):gmatch ("([^,@]+)@(%d+)") do
  local t = Temporal.timepos_t (tonumber (pos))
  local ok, loc = pcall (function () return ARDOUR.Location (s, t, t, name, ARDOUR.LocationFlags.IsMark, 0) end)
  if not ok then loc = ARDOUR.Location (s, t, t, name, ARDOUR.LocationFlags.IsMark) end
  s:locations ():add (loc, false)
  print ("marker\t" .. name .. "\t" .. pos)
end
s:save_state ("", false, false, false, false, false)
print ("LUA-DONE")
io.stdout:flush () -- the tools of 8 and 9 may abort at exit, before stdio is flushed
close_session ()
quit ()
