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

	-- @resonant-include follow.lua (bridge/ardour/live/scripts.py puts the helper here when it installs)
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
