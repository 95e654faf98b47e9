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

	-- Every script here stands alone (Ardour loads each on its own), so the three buttons carry this same helper.
	-- The daemon answers in a notice beside the session (bridge/ardour/live/notices.py: state, progress, title,
	-- message). No notice within 3 s: nothing listens at the address, and the musician is told so. Else the
	-- request's progress is shown here until it ends (the GUI keeps running: each update lets Ardour draw and
	-- run its timers, the Resonant hook's import among them), then a short confirmation or the error.
	-- Cancel cancels the job (and closes the window); a request that is not watched to its end is shown by the
	-- hook when it ends.
	local function request_id ()
		return string.format ("%x-%x-%x", os.time (), math.floor (os.clock () * 1e6) % 0x100000, math.random (0, 0xfffff))
	end
	local function read (path)
		local f = io.open (path, "rb")
		if not f then return nil end
		local s = f:read ("a")
		f:close ()
		return s
	end
	local function mark (path, text)
		local f = io.open (path, "wb")
		if f then f:write (text); f:close () end
	end
	local function follow (dir, id, confirm_s, cancellable)
		if not io then
			LuaDialog.Message ("Resonant: cannot see the daemon's answer", "Lua scripts are sandboxed, so the request"
				.. " was sent but its answer cannot be shown. Turn off Preferences > General > Sandbox all Lua scripts.",
				LuaDialog.MessageType.Warning, LuaDialog.ButtonType.Close):run ()
			return
		end
		local path = dir .. ".resonant/notices/" .. id
		local text
		for _ = 1, 30 do
			text = read (path)
			if text then break end
			ARDOUR.LuaAPI.usleep (100000)
		end
		if not text then
			LuaDialog.Message ("Resonant: the daemon does not answer", "Nothing answered at " .. uri .. " within 3 seconds.\n\n"
				.. "Start the daemon (resonant serve, or systemctl --user start resonant), and check that this session is"
				.. " inside its session roots (resonant doctor says both). Then press the button again.",
				LuaDialog.MessageType.Error, LuaDialog.ButtonType.Close):run ()
			return
		end
		mark (path .. ".watch", "")
		local pw
		while true do
			local state, progress, title, job, message = text:match ("^(%a+)\n([%d%.]+)\n([^\n]*)\n([%w%-]*)\n(.*)$")
			if state then
				message = message:gsub ("\n$", "")
				if state == "error" then
					if pw then pw:done () end
					mark (path .. ".seen", "error\n" .. message .. "\n")
					LuaDialog.Message (title, message, LuaDialog.MessageType.Error, LuaDialog.ButtonType.Close):run ()
					return
				end
				pw = pw or LuaDialog.ProgressWindow (title, cancellable)
				if pw:progress (tonumber (progress) or 0, message) then -- Cancel
					pw:done ()
					os.remove (path .. ".watch") -- the hook shows how it ended
					if job ~= "" then ARDOUR.LuaOSC.Address (uri):send ("/resonant/job/cancel", "s", job) end
					return
				end
				if state == "done" then
					mark (path .. ".seen", "done\n" .. message .. "\n")
					for _ = 1, confirm_s * 10 do -- the confirmation stays a moment, then closes by itself
						if pw:progress (1, message) then break end
						ARDOUR.LuaAPI.usleep (100000)
					end
					pw:done ()
					return
				end
			end
			ARDOUR.LuaAPI.usleep (100000)
			text = read (path) or text
		end
	end
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
