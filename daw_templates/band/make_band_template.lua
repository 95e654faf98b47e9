-- How daw_templates/band/band.template was made, by Ardour 7.3 itself:
--   ardour7-new_session -s 48000 /tmp/tpl band && ardour7-lua make_band_template.lua (runs in 8 and 9 too)
--   resonant session lock/unlock ... --role (the bridge adds <Extra><Resonant role=...>), then
--   cp /tmp/tpl/band.ardour daw_templates/band/band.template
-- "no route group": Ardour 9 crashes on nil (a shared pointer now) and wants RouteGroup (); 7/8 want nil
local function no_group () local ok, g = pcall (ARDOUR.RouteGroup); if ok then return g end return nil end
local s = load_session ("/tmp/tpl", "band")
local colors = { Drums = 0xd95b5bff, Bass = 0xd9a05bff, Harmony = 0x5b9bd9ff, Melody = 0x8d5bd9ff }
for _, name in ipairs ({ "Drums", "Bass", "Harmony", "Melody" }) do
  local t = s:new_audio_track (2, 2, no_group (), 1, name, ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front ()
  t:presentation_info_ptr ():set_color (colors[name])
end
s:save_state ("", false, false, false, false, false)
close_session ()
quit ()
