-- Keep a session loaded, as Ardour does while a user works on it, until the test kills us.
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
print ("loaded")
io.stdout:flush ()
ARDOUR.LuaAPI.usleep (tonumber (os.getenv ("HOLD_US") or "60000000"))
close_session ()
quit ()
