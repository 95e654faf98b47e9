	-- The buttons' shared helper: Ardour loads each script on its own, so the installer puts this text into
	-- each action at its include line (bridge/ardour/live/scripts.py: assemble). It needs `uri`.
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
