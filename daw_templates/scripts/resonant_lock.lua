ardour {
	["type"]    = "EditorAction",
	name        = "Resonant: lock or unlock tracks",
	author      = "Resonant bridge",
	description = [[Toggles the Resonant lock of the selected tracks: locked tracks are the material new
stems are made to fit (tempo, key, chords, groove), and are never regenerated.]],
}

function action_params ()
	return { ["uri"] = { title = "Daemon OSC address", default = "osc.udp://127.0.0.1:9123" } }
end

function factory (params) return function ()
	local uri = (params and params["uri"]) or "osc.udp://127.0.0.1:9123"
	local dir = Session:path ()
	if dir:sub (-1) ~= "/" then dir = dir .. "/" end -- with or without, depending on how it was loaded
	local file = dir .. Session:snap_name () .. ".ardour" -- the snapshot in use, not the first one
	local tx = ARDOUR.LuaOSC.Address (uri)
	local n = 0
	for r in Editor:get_selection ().tracks:routelist ():iter () do
		if not r:to_track ():isnil () then
			tx:send ("/resonant/track/toggle_lock", "ss", file, r:name ())
			n = n + 1
		end
	end
	if n == 0 then
		LuaDialog.Message ("Resonant", "Select the tracks to lock or unlock.", LuaDialog.MessageType.Info, LuaDialog.ButtonType.Close):run ()
	end
end end
