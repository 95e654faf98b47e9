-- Run the bridge's inbox hook inside Ardour's own Lua (ardour7-lua) on a loaded session. The GUI's
-- Editor does not exist here, so a stand-in records the import call; everything else is Ardour's:
-- the manifest reader, new tracks and takes, timepos_t, the ack file. Prints one line per import.
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
Session = s
Editor = {}
function Editor:do_import (files, disposition, mode, quality, mts, mtd, pos, instrument, track, markers)
	for f in files:iter () do
		print (string.format ("IMPORT|%s|%s|%d|%s|%s", track:name (), track:playlist ():name (),
			pos:samples (), f, tostring (mode == Editing.ImportToTrack)))
	end
end
Editing = { ImportMergeFiles = 1, ImportToTrack = 2 }
ardour = function () end
dofile (os.getenv ("HOOK"))
local cb = factory ({})
cb (0, nil)
local f = io.open (os.getenv ("ACK"), "rb")
print ("ACK|" .. (f and f:read ("a"):gsub ("\n", "|") or "none"))
for t in s:get_tracks ():iter () do print ("TRACK|" .. t:name ()) end
close_session ()
quit ()
