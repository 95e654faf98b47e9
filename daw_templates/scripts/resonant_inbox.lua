ardour {
	["type"]    = "EditorHook",
	name        = "Resonant: import delivered stems",
	author      = "Resonant bridge",
	description = [[Imports the stems the Resonant daemon delivers while this session is open:
every 100 ms it reads the session's .resonant/inbox/index, imports each manifest's WAV and MIDI files
into the named track at the given sample position (as a new playlist take, or on a new track, in its
role's colour; a new MIDI track plays through ACE Fluid Synth with the part's SoundFont), and acknowledges with an ack file and an OSC message to the daemon. It also shows
how a request made with a Resonant button ended when the button stopped watching it (.resonant/notices),
and which tracks are locked (the "Locked" group tab).
Needs Lua's io and os, i.e. Preferences > General > "Sandbox all Lua scripts" off (Ardour's default).]],
}

function signals ()
	return LuaSignal.Set():add ({[LuaSignal.LuaTimerDS] = true})
end

function factory (params)
	-- a small JSON reader: the manifest is written by Python's json module (ASCII only)
	local function json_decode (text)
		local pos = 1
		local function ws () pos = text:find ("[^ \t\r\n]", pos) or (#text + 1) end
		local value
		local function str ()
			local out, i = {}, pos + 1
			while true do
				local c = text:sub (i, i)
				if c == "" then error ("unterminated string") end
				if c == '"' then pos = i + 1; return table.concat (out) end
				if c == "\\" then
					local e = text:sub (i + 1, i + 1)
					local simple = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
					if e == "u" then
						local cp = tonumber (text:sub (i + 2, i + 5), 16) or error ("bad \\u escape")
						if cp >= 0xD800 and cp <= 0xDBFF and text:sub (i + 6, i + 7) == "\\u" then
							local lo = tonumber (text:sub (i + 8, i + 11), 16) or error ("bad \\u escape")
							cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
							i = i + 6
						end
						out[#out + 1] = utf8.char (cp)
						i = i + 6
					else
						out[#out + 1] = simple[e] or e
						i = i + 2
					end
				else
					local j = text:find ('["\\]', i) or error ("unterminated string")
					out[#out + 1] = text:sub (i, j - 1)
					i = j
				end
			end
		end
		function value ()
			ws ()
			local c = text:sub (pos, pos)
			if c == "{" then
				local t = {}
				pos = pos + 1; ws ()
				if text:sub (pos, pos) == "}" then pos = pos + 1; return t end
				while true do
					ws ()
					if text:sub (pos, pos) ~= '"' then error ("expected a key at " .. pos) end
					local k = str (); ws ()
					if text:sub (pos, pos) ~= ":" then error ("expected ':' at " .. pos) end
					pos = pos + 1
					t[k] = value (); ws ()
					local d = text:sub (pos, pos); pos = pos + 1
					if d == "}" then return t end
					if d ~= "," then error ("expected ',' or '}' at " .. pos) end
				end
			elseif c == "[" then
				local t = {}
				pos = pos + 1; ws ()
				if text:sub (pos, pos) == "]" then pos = pos + 1; return t end
				while true do
					t[#t + 1] = value (); ws ()
					local d = text:sub (pos, pos); pos = pos + 1
					if d == "]" then return t end
					if d ~= "," then error ("expected ',' or ']' at " .. pos) end
				end
			elseif c == '"' then return str ()
			elseif text:sub (pos, pos + 3) == "true" then pos = pos + 4; return true
			elseif text:sub (pos, pos + 4) == "false" then pos = pos + 5; return false
			elseif text:sub (pos, pos + 3) == "null" then pos = pos + 4; return nil
			else
				local num = text:match ("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
				if not num or num == "" then error ("unexpected '" .. c .. "' at " .. pos) end
				pos = pos + #num
				return math.tointeger (tonumber (num)) or tonumber (num)
			end
		end
		local v = value (); ws ()
		if pos <= #text then error ("trailing text at " .. pos) end
		return v
	end

	local function read_file (path)
		local f = io.open (path, "rb")
		if not f then return nil end
		local s = f:read ("a")
		f:close ()
		return s
	end

	local function write_atomic (path, text)
		local f = assert (io.open (path .. ".tmp", "wb"))
		f:write (text)
		f:close ()
		assert (os.rename (path .. ".tmp", path))
	end

	-- "no route group" for Session:new_audio_track: Ardour 9 takes a shared pointer there and crashes on
	-- nil, so it gets an empty RouteGroup (); in 7 and 8 RouteGroup cannot be called and nil is right
	local function no_group ()
		local ok, group = pcall (ARDOUR.RouteGroup)
		if ok then return group end
		return nil
	end

	-- one stem: make the track or a new take on it, then import the file at its position; returns
	-- what Ardour really made (it renames: a '"' in a track name becomes '_' in Ardour 8 and 9, and the
	-- first playlist of a new track is "Name" in 7 and "Name.1" in 8 and 9). A MIDI drop's new track comes
	-- from the route template the daemon wrote beside it: ACE Fluid Synth with the part's SoundFont
	local function import_drop (d)
		local track
		local midi = d.kind == "midi"
		if d.new_track then
			if midi then
				local rl = Session:new_route_from_template (1, ARDOUR.PresentationInfo.max_order, d.template, d.track,
					ARDOUR.PlaylistDisposition.NewPlaylist)
				for r in rl:iter () do track = r:to_track () end
				if not track or track:isnil () then return nil, "could not make MIDI track " .. d.track end
			else
				local tl = Session:new_audio_track (math.max (1, d.channels), 2, no_group (), 1, d.track,
					ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
				for t in tl:iter () do track = t end
				if not track then return nil, "could not make track " .. d.track end
			end
			if type (d.color) == "number" and d.color ~= 0 then
				track:presentation_info_ptr ():set_color (d.color) -- the role's colour
			end
		else
			local route = Session:route_by_name (d.track)
			if route:isnil () or route:to_track ():isnil () then
				return nil, "no track named " .. d.track
			end
			track = route:to_track ()
			if midi ~= not track:to_midi_track ():isnil () then
				return nil, d.track .. (midi and " is an audio track, not a MIDI track" or " is a MIDI track, not an audio track")
			end
			track:use_new_playlist (ARDOUR.DataType (midi and "midi" or "audio"))
			track:playlist ():set_name (d.take)
		end
		local before = track:playlist ():region_list ():size ()
		local files = C.StringVector ()
		files:push_back (d.file)
		local pos = Temporal.timepos_t (d.position)
		Editor:do_import (files, Editing.ImportMergeFiles, Editing.ImportToTrack, ARDOUR.SrcQuality.SrcBest,
			ARDOUR.MidiTrackNameSource.SMFTrackName, ARDOUR.MidiTempoMapDisposition.SMFTempoIgnore,
			pos, ARDOUR.PluginInfo (), track, false)
		local regions = track:playlist ():region_list ()
		if regions:size () <= before then
			return nil, "Ardour imported nothing from " .. d.file
		end
		local source = ""
		for r in regions:iter () do
			if r:position ():samples () == d.position then
				local got, name = pcall (function () return r:source (0):name () end)
				if got then source = name end
			end
		end
		return { track = track:name (), take = track:playlist ():name (), source = source }
	end

	-- a whole manifest; the answer goes to the ack file first (it survives a daemon restart), then OSC.
	-- The ack file: "ok" or "error" (or "partial": some drops landed), a line for people, then one
	-- tab-separated line per drop: placed <n> <track> <take> <source> | failed <n> <reason>
	local function handle (inbox, id)
		local text = read_file (inbox .. id .. ".json")
		if not text then return end -- withdrawn meanwhile
		local ok, m = pcall (json_decode, text)
		local status, detail, lines = "ok", {}, {}
		if not ok or type (m) ~= "table" or m.job ~= id or type (m.drops) ~= "table" then
			status, detail = "error", { "unreadable manifest: " .. tostring (ok and "bad shape" or m) }
		else
			local landed = 0
			for i, d in ipairs (m.drops) do
				local good, placed, why = pcall (import_drop, d)
				if not good or not placed then
					local reason = tostring (good and why or placed):gsub ("[\t\n]", " ")
					detail[#detail + 1] = reason
					lines[#lines + 1] = "failed\t" .. i .. "\t" .. reason
				else
					landed = landed + 1
					detail[#detail + 1] = placed.track .. " (" .. placed.take .. ")@" .. d.position
					lines[#lines + 1] = table.concat ({ "placed", i, placed.track, placed.take, placed.source }, "\t")
				end
			end
			if landed < #m.drops then status = landed > 0 and "partial" or "error" end
		end
		local answer = table.concat (detail, "; ")
		write_atomic (inbox .. id .. ".ack", status .. "\n" .. answer .. "\n" .. table.concat (lines, "\n") .. "\n")
		if ok and type (m) == "table" and type (m.reply) == "string" and m.reply ~= "" then
			ARDOUR.LuaOSC.Address (m.reply):send ("/resonant/ack", "sss", id, status, answer)
		end
		print ("Resonant: " .. id .. " " .. status .. " " .. answer)
	end

	-- notices: the daemon's answers to the Resonant buttons (bridge/ardour/live/notices.py: state, progress, title,
	-- job, message). The button that made a request shows its progress and end while it watches it (.watch); a
	-- request it stopped watching (its Cancel, or Ardour restarted) is shown here once it ends
	local finished = {}

	local function show_notice (dir, id)
		if finished[id] then return end
		local text = read_file (dir .. id)
		if not text then return end
		local state, _, title, _, message = text:match ("^(%a+)\n([%d%.]+)\n([^\n]*)\n([%w%-]*)\n(.*)$")
		if state ~= "done" and state ~= "error" then return end
		finished[id] = true
		if read_file (dir .. id .. ".seen") or read_file (dir .. id .. ".watch") then return end
		message = message:gsub ("\n$", "")
		write_atomic (dir .. id .. ".seen", state .. "\n" .. message .. "\n")
		LuaDialog.Message (title, message, state == "error" and LuaDialog.MessageType.Error or LuaDialog.MessageType.Info,
			LuaDialog.ButtonType.Close):run ()
	end

	-- locks: the tracks the daemon has locked (.resonant/locks: name TAB role TAB 0|1), shown as the tab of a
	-- route group "Locked" that shares nothing (a label beside the track headers); a track already in a
	-- group of the user's stays there and shows its lock in its comment only
	local GROUP = "Locked" -- short: a one-track tab shows about eight letters
	local COMMENT = "Resonant: locked (new parts fit this track; it is never regenerated)"
	local locks_text

	local function show_locks (base)
		local text = read_file (base .. ".resonant/locks")
		if not text or text == locks_text then return end
		locks_text = text
		local group
		local member_of = {}
		for g in Session:route_groups ():iter () do
			if g:name () == GROUP then group = g end
			for r in g:route_list ():iter () do member_of[r:name ()] = g:name () end
		end
		local any = false
		for name, _, locked in text:gmatch ("([^\t\n]*)\t([^\t\n]*)\t([01])\n") do
			local r = Session:route_by_name (name)
			if not r:isnil () then
				if locked == "1" then
					any = true
					if not group then
						group = Session:new_route_group (GROUP)
						local listed = false
						for g in Session:route_groups ():iter () do listed = listed or g:name () == GROUP end
						if not listed then Session:add_route_group (group) end -- Ardour 9 makes it but does not add it
						for _, f in ipairs ({ "set_gain", "set_mute", "set_solo", "set_recenable", "set_select",
						                      "set_route_active", "set_color", "set_monitoring" }) do
							group[f] (group, false)
						end
						group:set_rgba (0x6b8fb3ff)
					end
					if member_of[name] == nil then group:add (r) end
					if r:comment () == "" then r:set_comment (COMMENT, nil) end
				else
					if member_of[name] == GROUP then group:remove (r) end
					if r:comment () == COMMENT then r:set_comment ("", nil) end
				end
			end
		end
		if group and not any then Session:remove_route_group (group) end
	end

	local handled = {}
	local busy = false
	local warned = false
	return function (signal, ref, ...)
		if busy or not Session then return end
		if not io or not os then
			if not warned then
				print ("Resonant: Lua's io/os are sandboxed; turn off 'Sandbox all Lua scripts' to import stems")
				warned = true
			end
			return
		end
		local base = Session:path ()
		if base:sub (-1) ~= "/" then base = base .. "/" end
		busy = true -- do_import and the dialogs run the GUI loop, and with it this timer: no second entry meanwhile
		local inbox = base .. ".resonant/inbox/"
		local index = read_file (inbox .. "index")
		for id in (index or ""):gmatch ("[%w%-]+") do
			if not handled[id] and not read_file (inbox .. id .. ".ack") then
				handled[id] = true
				local good, err = pcall (handle, inbox, id)
				if not good then print ("Resonant: " .. id .. " failed: " .. tostring (err)) end
			end
		end
		local notes = base .. ".resonant/notices/"
		for id in (read_file (notes .. "index") or ""):gmatch ("[%w%-]+") do
			local good, err = pcall (show_notice, notes, id)
			if not good then print ("Resonant: notice " .. id .. ": " .. tostring (err)) end
		end
		local good, err = pcall (show_locks, base)
		if not good then print ("Resonant: locks: " .. tostring (err)) end
		busy = false
	end
end
