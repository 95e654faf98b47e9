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
	local tm = Temporal.TempoMap.read ()
	local first, bars = 1, 8
	-- the loop range wins, then a selected time range: that is where a user marks "these bars"
	local range_start, range_end
	local loop = Session:locations ():auto_loop_location ()
	if loop then
		range_start, range_end = loop:start (), loop:_end ()
	elseif not Editor:get_selection ().time:empty () then
		range_start, range_end = Editor:get_selection ().time:start_time (), Editor:get_selection ().time:end_time ()
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
	ARDOUR.LuaOSC.Address (uri):send ("/resonant/generate", "sssiii", file, table.concat (roles, ","),
		rv["prompt"], math.floor (rv["bars"]), math.floor (rv["first"]), math.floor (rv["seed"]))
end end
