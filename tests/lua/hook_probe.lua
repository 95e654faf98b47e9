-- Run the bridge's inbox hook inside Ardour's own Lua (ardourN-lua) on a loaded session. The GUI's
-- Editor does not exist here, so a stand-in takes the import call: it records it (one IMPORT line)
-- and, with REGION_FROM=<track>, places a copy of that track's first region where the file was to go
-- (Ardour's own RegionFactory), which is what the GUI's import ends in; a file whose path contains
-- FAIL_FILE imports nothing, as when the GUI cannot read it. Everything else is Ardour's:
-- the manifest reader, new tracks and takes, timepos_t, the ack file. SAVE=1 saves the session.
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
Session = s
Editor = {}
local from = os.getenv ("REGION_FROM")
local fail = os.getenv ("FAIL_FILE")
function Editor:do_import (files, disposition, mode, quality, mts, mtd, pos, instrument, track, markers)
	local failed = false
	for f in files:iter () do
		print (string.format ("IMPORT|%s|%s|%d|%s|%s", track:name (), track:playlist ():name (),
			pos:samples (), f, tostring (mode == Editing.ImportToTrack)))
		if fail and f:find (fail, 1, true) then failed = true end
	end
	if from and not failed then
		local src = s:route_by_name (from):to_track ()
		for r in src:playlist ():region_list ():iter () do
			track:playlist ():add_region (ARDOUR.RegionFactory.clone_region (r, false, false), pos, 1, false)
			break
		end
	end
end
Editing = { ImportMergeFiles = 1, ImportToTrack = 2 }
ardour = function () end
dofile (os.getenv ("HOOK"))
local cb = factory ({})
cb (0, nil)
local f = io.open (os.getenv ("ACK"), "rb")
print ("ACK|" .. (f and f:read ("a"):gsub ("\n", "|") or "none"))
for r in s:get_tracks ():iter () do print ("TRACK|" .. r:name () .. "|" .. r:to_track ():playlist ():name ()) end
if os.getenv ("SAVE") then s:save_state ("", false, false, false, false, false) end
print ("LUA-DONE")
io.stdout:flush () -- the tools of 8 and 9 may abort at exit, before stdio is flushed
close_session ()
quit ()
