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

	-- @resonant-include follow.lua (bridge/ardour/live/scripts.py puts the helper here when it installs)
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
