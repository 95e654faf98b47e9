-- Run one of the bridge's action scripts in Ardour's own Lua on a loaded session. What only the GUI
-- has is stood in for: the editor's selection (the track named by SELECT, or a time range START-END
-- in samples), the dialog (it returns the values in DIALOG, "key=value;...") and the progress window
-- (it prints what it is shown). The OSC message the script sends goes out through Ardour's real
-- ARDOUR.LuaOSC to URI.
local s = load_session (os.getenv ("SDIR"), os.getenv ("SNAME"))
assert (s)
Session = s
local function list (items)
	return { iter = function () local i = 0; return function () i = i + 1; return items[i] end end,
	         empty = function () return #items == 0 end }
end
local routes = {}
if (os.getenv ("SELECT") or "") ~= "" then routes[1] = s:route_by_name (os.getenv ("SELECT")) end
local a, b = (os.getenv ("RANGE") or ""):match ("(%d+)-(%d+)")
local time = list (a and { 1 } or {})
time.start_time = function () return Temporal.timepos_t (tonumber (a)) end
time.end_time = function () return Temporal.timepos_t (tonumber (b)) end
local selection = { tracks = { routelist = function () return list (routes) end }, time = time }
Editor = { get_selection = function () return selection end }
local answers = {}
for k, v in (os.getenv ("DIALOG") or ""):gmatch ("(%w+)=([^;]*)") do
	answers[k] = (v == "true") or (v ~= "false" and (tonumber (v) or v))
end
LuaDialog = {
	Dialog = function (title, fields)
		for _, f in ipairs (fields) do
			if f.key and answers[f.key] == nil then
				-- a dropdown answers with the value of its entry, as Ardour's does
				answers[f.key] = f.type == "dropdown" and f.values[f.default] or f.default
			end
			if f.key then print ("FIELD|" .. f.key .. "|" .. tostring (f.default)) end
		end
		return { run = function () return answers end }
	end,
	Message = function (title, text) return { run = function () print ("MESSAGE|" .. text) end } end,
	ProgressWindow = function (title)
		return { progress = function (self, f, text) print ("PROGRESS|" .. title .. "|" .. tostring (text)) return false end,
		         done = function () print ("PROGRESS-DONE|" .. title) end }
	end,
	MessageType = {}, ButtonType = {},
}
ardour = function () end
local sandboxed, real_io = os.getenv ("SANDBOX") == "1", io
dofile (os.getenv ("ACTION"))
if sandboxed then io = nil end -- "Sandbox all Lua scripts" takes io (and os.execute) from the scripts
factory ({ uri = os.getenv ("URI") }) ()
io = real_io
print ("LUA-DONE")
io.stdout:flush () -- the tools of 8 and 9 may abort at exit, before stdio is flushed
close_session ()
quit ()
