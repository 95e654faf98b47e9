ardour {
	["type"]    = "EditorAction",
	name        = "Resonant: generate",
	author      = "Resonant bridge",
	description = [[Asks the Resonant daemon for new stems that fit the locked tracks: choose the roles and
a prompt; the bars come from the loop range, else the selected range, else the dialog. The session is
saved first (the daemon reads the saved session), and the stems arrive as new tracks a moment later.]],
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
	local tm = Temporal.TempoMap.read ()
	local first, bars = 1, 8
	-- the loop range wins, then a selected time range: that is where a user marks "these bars"; else the
	-- whole song (the session range), so that the defaults never ask for bars past its end
	local range_start, range_end
	local loop = Session:locations ():auto_loop_location ()
	local song = Session:locations ():session_range_location ()
	if loop then
		range_start, range_end = loop:start (), loop:_end ()
	elseif not Editor:get_selection ().time:empty () then
		range_start, range_end = Editor:get_selection ().time:start_time (), Editor:get_selection ().time:end_time ()
	elseif song then
		range_start, range_end = song:start (), song:_end ()
	end
	if range_start then
		first = tm:bbt_at (range_start).bars
		local last = tm:bbt_at (range_end).bars
		if tm:bbt_at (range_end).beats == 1 and tm:bbt_at (range_end).ticks == 0 then last = last - 1 end
		bars = math.max (1, last - first + 1)
	end
	local dialog = LuaDialog.Dialog ("Resonant: generate", {
		{ type = "heading", title = "New stems that fit the locked tracks" },
		{ type = "entry", key = "prompt", default = "", title = "Prompt (style, mood, instruments)" },
		{ type = "checkbox", key = "drums", default = false, title = "Drums" },
		{ type = "checkbox", key = "bass", default = true, title = "Bass" },
		{ type = "checkbox", key = "harmony", default = false, title = "Harmony" },
		{ type = "checkbox", key = "melody", default = false, title = "Melody" },
		{ type = "number", key = "first", title = "First bar", min = 1, max = 9999, step = 1, digits = 0, default = first },
		{ type = "number", key = "bars", title = "Bars", min = 1, max = 512, step = 1, digits = 0, default = bars },
		{ type = "number", key = "seed", title = "Seed", min = 0, max = 999999, step = 1, digits = 0, default = 0 },
		{ type = "checkbox", key = "extend", default = false, title = "Make the song longer if these bars go past its end" },
		{ type = "dropdown", key = "deliver", title = "Each part as", default = "the daemon's setting (audio unless set)",
		  values = { ["the daemon's setting (audio unless set)"] = "", ["an audio track"] = "audio",
		             ["a MIDI track (editable notes, ACE Fluid Synth)"] = "midi", ["both: an audio and a MIDI track"] = "both" } },
	})
	local rv = dialog:run ()
	if not rv then return end
	local roles = {}
	for _, r in ipairs ({ "drums", "bass", "harmony", "melody" }) do
		if rv[r] then roles[#roles + 1] = r end
	end
	if #roles == 0 then
		LuaDialog.Message ("Resonant", "Choose at least one role.", LuaDialog.MessageType.Warning, LuaDialog.ButtonType.Close):run ()
		return
	end
	Session:save_state ("", false, false, false, false, false)
	local dir = Session:path ()
	if dir:sub (-1) ~= "/" then dir = dir .. "/" end -- with or without, depending on how it was loaded
	local file = dir .. Session:snap_name () .. ".ardour" -- the snapshot in use, not the first one
	local id = request_id ()
	ARDOUR.LuaOSC.Address (uri):send ("/resonant/generate", "sssiiiiss", file, table.concat (roles, ","),
		rv["prompt"], math.floor (rv["bars"]), math.floor (rv["first"]), math.floor (rv["seed"]), rv["extend"] and 1 or 0, id,
		rv["deliver"] or "")
	follow (dir, id, 3, true)
end end

-- a green tile with a plus: new parts
function icon (params) return function (ctx, width, height, fg)
	local s = math.min (width, height) * .8
	local x, y = (width - s) / 2, (height - s) / 2
	ctx:rectangle (x, y, s, s)
	ctx:set_source_rgba (64 / 255, 166 / 255, 89 / 255, 1)
	ctx:fill ()
	ctx:set_source_rgba (1, 1, 1, 1)
	ctx:set_line_width (math.max (1.5, s * .14))
	ctx:move_to (width / 2, y + s * .2)
	ctx:line_to (width / 2, y + s * .8)
	ctx:move_to (x + s * .2, height / 2)
	ctx:line_to (x + s * .8, height / 2)
	ctx:stroke ()
end end
