ardour {
	["type"]    = "EditorAction",
	name        = "Resonant: regenerate track",
	author      = "Resonant bridge",
	description = [[A new take for the selected track from the Resonant daemon: the whole take, or only the
bars of the selected range (the rest of the take is kept). The old take stays in the track's playlists.
The session is saved first; the new take arrives a moment later.]],
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
	local sel = Editor:get_selection ()
	local track
	for r in sel.tracks:routelist ():iter () do
		if not r:to_track ():isnil () then track = r; break end
	end
	if not track then
		LuaDialog.Message ("Resonant", "Select the track to regenerate.", LuaDialog.MessageType.Info, LuaDialog.ButtonType.Close):run ()
		return
	end
	local bars = ""
	if not sel.time:empty () then
		local tm = Temporal.TempoMap.read ()
		local a, b = tm:bbt_at (sel.time:start_time ()), tm:bbt_at (sel.time:end_time ())
		local last = b.bars
		if b.beats == 1 and b.ticks == 0 then last = last - 1 end
		bars = string.format ("%d-%d", a.bars, math.max (a.bars, last))
	end
	local rv = LuaDialog.Dialog ("Resonant: regenerate " .. track:name (), {
		{ type = "entry", key = "prompt", default = "", title = "Prompt (empty: as before)" },
		{ type = "entry", key = "bars", default = bars, title = "Bars A-B (empty: the whole take)" },
		{ type = "number", key = "seed", title = "Seed", min = 0, max = 999999, step = 1, digits = 0, default = 1 },
		{ type = "checkbox", key = "both", default = false,
		  title = "Also a take on its audio/MIDI partner (Bass <-> Bass MIDI)" },
	}):run ()
	if not rv then return end
	Session:save_state ("", false, false, false, false, false)
	local dir = Session:path ()
	if dir:sub (-1) ~= "/" then dir = dir .. "/" end -- with or without, depending on how it was loaded
	local file = dir .. Session:snap_name () .. ".ardour" -- the snapshot in use, not the first one
	local id = request_id ()
	ARDOUR.LuaOSC.Address (uri):send ("/resonant/regenerate", "ssssiiss", file, track:name (), rv["bars"], rv["prompt"],
		math.floor (rv["seed"]), 0, id, rv["both"] and "both" or "")
	follow (dir, id, 3, true)
end end

-- an orange circular arrow: another take
function icon (params) return function (ctx, width, height, fg)
	local r = math.min (width, height) * .32
	local cx, cy = width / 2, height / 2
	ctx:set_source_rgba (230 / 255, 140 / 255, 51 / 255, 1)
	ctx:set_line_width (math.max (2, r * .45))
	ctx:arc (cx, cy, r, .9, 2 * math.pi - .3)
	ctx:stroke ()
	local ax, ay = cx + r * math.cos (-.3), cy + r * math.sin (-.3)
	ctx:move_to (ax + r * .55, ay - r * .05)
	ctx:line_to (ax - r * .1, ay + r * .65)
	ctx:line_to (ax - r * .5, ay - r * .35)
	ctx:close_path ()
	ctx:fill ()
end end
