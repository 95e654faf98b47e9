-- List every track's regions as Ardour itself sees them (after shared/tools/ardour/dump.lua),
-- with the fields the bridge's reader must agree on. One line per region, tab-separated:
-- region <track> <region> <position> <start> <length> <muted> <opaque> <layer> <playlist>
-- and one line per track: track <name> <playlist> <n regions>
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
for r in s:get_routes ():iter () do
  local t = r:to_track ()
  if not t:isnil () then
    local pl = t:playlist ()
    print (table.concat ({"track", r:name (), pl:name (), tostring (pl:region_list ():size ())}, "\t"))
    for reg in pl:region_list ():iter () do
      print (table.concat ({"region", r:name (), reg:name (),
        tostring (reg:position ():samples ()), tostring (reg:start ():samples ()),
        tostring (reg:length ():samples ()), tostring (reg:muted ()), tostring (reg:opaque ()),
        tostring (reg:layer ()), pl:name ()}, "\t"))
    end
  end
end
if os.getenv ("SAVE") then s:save_state ("", false, false, false, false, false) end
print ("LUA-DONE")
io.stdout:flush () -- the tools of 8 and 9 may abort at exit, before stdio is flushed
close_session ()
quit ()
