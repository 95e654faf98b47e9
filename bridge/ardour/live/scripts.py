"""Installing the bridge's Lua scripts into Ardour's per-user configuration.

Ardour finds Lua scripts in ``$XDG_CONFIG_HOME/ardourN/scripts`` (the Script Manager lists them) and
keeps the hooks and action buttons a user registered in ``ardourN/ui_scripts``. The inbox hook only
works once registered, so the installer registers it: it merges a ``<LuaCallback>`` into
``ui_scripts`` the way Ardour itself saves one (``gtk2_ardour/luainstance.cc``, LuaCallback::get_state),
keeping every other hook and action the user has. Action scripts are left for the user to bind to
buttons (Edit > Lua Scripts > Script Manager), because those slots are the user's to choose.

Ardour rewrites ``ui_scripts`` when it saves, so install while Ardour is not running.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from bridge import PROJECT
from bridge.ardour.files import atomic_write

SCRIPTS = PROJECT / "daw_templates" / "scripts"
HOOK_FILE = "resonant_inbox.lua"
HOOK_NAME = "Resonant: import delivered stems"
HOOK_ID = "1735353535"  # stable, so that installing twice replaces rather than duplicates
# LuaSignal::LuaTimerDS is bit 47 in Ardour 7.0-8.12 and bit 49 in 9.x (gtk2_ardour/luasignal_syms.h,
# not counting the entries under "#if 0"; 9.8 printed LuaSignal.LuaTimerDS = 49 in a probe hook). Ardour
# reads the string as a std::bitset, rightmost character = bit 0; a string longer than the set is cut
# from the left, so a wrong length silently selects another signal (in 9 a 7/8 hook never runs).
TIMER_DS_BIT = {7: 47, 8: 47, 9: 49}


def timer_ds_signals(major: int) -> str:
    """The ``signals`` bitset of a hook on LuaTimerDS for Ardour ``major`` (newer majors: as 9)."""
    bit = TIMER_DS_BIT.get(major, TIMER_DS_BIT[max(TIMER_DS_BIT)])
    return "1" + "0" * bit

def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def hook_state(source: str) -> str:
    """The Lua chunk Ardour restores a hook from: ``s`` = {name, script, factory, args}.

    Ardour stores the factory as bytecode; ``load`` takes source text as well, so the factory here
    is a chunk that defines the script's functions and returns ``factory(args)`` (a no-op stands in
    for the ``ardour { ... }`` header, which only the script scanner understands).
    """
    factory = f"local ardour = function () end\n{source}\nreturn factory (...)\n"

    def q(s: str) -> str:  # a Lua long string that cannot be closed early by the content
        level = 0
        while f"]{'=' * level}]" in s:
            level += 1
        eq = "=" * level
        return f"[{eq}[\n{s}]{eq}]"

    return (f"s = {{}} s['n'] = {q(HOOK_NAME)} s['s'] = {q(source)} s['f'] = {q(factory)} "
            "s['a'] = {} ")


def merge_hook(ui_scripts: bytes | None, source: str, major: int = 7) -> bytes:
    """``ui_scripts`` of Ardour ``major`` with the inbox hook registered (replacing an earlier copy)."""
    if ui_scripts:
        root = etree.fromstring(ui_scripts, etree.XMLParser(resolve_entities=False, no_network=True))
    else:
        root = etree.Element("UIScripts")
    hooks = root.find("ActionHooks")
    if hooks is None:
        hooks = etree.SubElement(root, "ActionHooks")
    for old in hooks.findall("LuaCallback"):
        if old.get("id") == HOOK_ID or old.get("name") == HOOK_NAME:
            hooks.remove(old)
    cb = etree.SubElement(hooks, "LuaCallback", {"lua": "Lua 5.3", "id": HOOK_ID, "name": HOOK_NAME,
                                                 "signals": timer_ds_signals(major)})
    cb.text = base64.b64encode(hook_state(source).encode()).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass
class Installed:
    scripts: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)


def install(base: Path | None = None, majors: tuple[int, ...] | None = None, register_hook: bool = True
            ) -> Installed:
    """Copy the scripts for each Ardour major (default: those installed or configured here) and
    register the inbox hook."""
    from bridge.ardour.programs import majors_to_configure

    base = base or config_home()
    majors = majors or majors_to_configure(base)
    out = Installed()
    source = (SCRIPTS / HOOK_FILE).read_text()
    for major in majors:
        cfg = base / f"ardour{major}"
        dest = cfg / "scripts"
        dest.mkdir(parents=True, exist_ok=True)
        for lua in sorted(SCRIPTS.glob("*.lua")):
            shutil.copyfile(lua, dest / lua.name)
            out.scripts.append(str(dest / lua.name))
        if register_hook:
            ui = cfg / "ui_scripts"
            atomic_write(ui, merge_hook(ui.read_bytes() if ui.is_file() else None, source, major))
            out.hooks.append(str(ui))
    return out
