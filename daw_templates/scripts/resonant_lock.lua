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

	-- @resonant-include follow.lua (bridge/ardour/live/scripts.py puts the helper here when it installs)
	local dir = Session:path ()
	if dir:sub (-1) ~= "/" then dir = dir .. "/" end -- with or without, depending on how it was loaded
	local file = dir .. Session:snap_name () .. ".ardour" -- the snapshot in use, not the first one
	local tx = ARDOUR.LuaOSC.Address (uri)
	local n, last = 0, nil
	for r in Editor:get_selection ().tracks:routelist ():iter () do
		if not r:to_track ():isnil () then
			last = request_id () .. "-" .. n
			tx:send ("/resonant/track/toggle_lock", "sss", file, r:name (), last)
			n = n + 1
		end
	end
	if n == 0 then
		LuaDialog.Message ("Resonant", "Select the tracks to lock or unlock.", LuaDialog.MessageType.Info, LuaDialog.ButtonType.Close):run ()
		return
	end
	follow (dir, last, 2, false)
end end

-- a blue padlock: lock or unlock
function icon (params) return function (ctx, width, height, fg)
	local s = math.min (width, height)
	local bw, bh = s * .62, s * .42
	local bx, by = (width - bw) / 2, height / 2 - s * .02
	ctx:set_source_rgba (74 / 255, 109 / 255, 140 / 255, 1)
	ctx:set_line_width (math.max (1.5, s * .1))
	ctx:arc (width / 2, by, bw * .32, math.pi, 2 * math.pi)
	ctx:stroke ()
	ctx:rectangle (bx, by, bw, bh)
	ctx:fill ()
end end
