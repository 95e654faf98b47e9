-- Load a session, move the first region of track TRACK to sample POS, save: what a user does in Ardour.
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
local r = s:route_by_name (os.getenv ("TRACK"))
assert (not r:isnil ())
for reg in r:to_track ():playlist ():region_list ():iter () do
  reg:set_position (Temporal.timepos_t (tonumber (os.getenv ("POS"))))
  break
end
s:save_state ("", false, false, false, false, false)
print ("LUA-DONE")
io.stdout:flush () -- the tools of 8 and 9 may abort at exit, before stdio is flushed
close_session ()
quit ()
