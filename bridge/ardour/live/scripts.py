"""Installing the bridge's Lua scripts into Ardour's per-user configuration.

Ardour finds Lua scripts in ``$XDG_CONFIG_HOME/ardourN/scripts`` (the Script Manager lists them) and
keeps the hooks and action buttons a user registered in ``ardourN/ui_scripts``. The inbox hook only
works once registered, so the installer registers it: it merges a ``<LuaCallback>`` into
``ui_scripts`` the way Ardour itself saves one (``gtk2_ardour/luainstance.cc``, LuaCallback::get_state),
keeping every other hook and action the user has. The three action scripts are bound to toolbar
buttons the same way (``<ActionScript>``, LuaInstance::get_action_state): into the slots they had, else
the first free ones, leaving the user's own buttons where they are.

Ardour rewrites ``ui_scripts`` when it saves, so install while Ardour is not running.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from bridge import PROJECT
from bridge.ardour.files import atomic_write

SCRIPTS = PROJECT / "daw_templates" / "scripts"
PARTS = PROJECT / "daw_templates" / "lua"  # text the installer puts into the scripts (not scripts themselves)
_INCLUDE = re.compile(r"^[ \t]*-- @resonant-include ([a-z_]+\.lua)\b.*\n", re.M)
HOOK_FILE = "resonant_inbox.lua"
HOOK_NAME = "Resonant: import delivered stems"
HOOK_ID = "1735353535"  # stable, so that installing twice replaces rather than duplicates
# LuaSignal::LuaTimerDS is bit 47 in Ardour 7.0-8.12 and bit 49 in 9.x (gtk2_ardour/luasignal_syms.h,
# not counting the entries under "#if 0"; 9.8 printed LuaSignal.LuaTimerDS = 49 in a probe hook). Ardour
# reads the string as a std::bitset, rightmost character = bit 0; a string longer than the set is cut
# from the left, so a wrong length silently selects another signal (in 9 a 7/8 hook never runs).
TIMER_DS_BIT = {7: 47, 8: 47, 9: 49}


def assemble(name: str) -> str:
    """The script ``name`` as Ardour gets it: each ``-- @resonant-include PART`` line replaced by that
    part's text (the buttons share one helper; Ardour loads every script on its own)."""
    return _INCLUDE.sub(lambda m: (PARTS / m.group(1)).read_text(), (SCRIPTS / name).read_text())


def assembled(folder: Path) -> dict[str, Path]:
    """Every script assembled into ``folder`` (for Ardour's own Lua in the tests): name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for lua in sorted(SCRIPTS.glob("*.lua")):
        (folder / lua.name).write_text(assemble(lua.name))
        out[lua.name] = folder / lua.name
    return out


def timer_ds_signals(major: int) -> str:
    """The ``signals`` bitset of a hook on LuaTimerDS for Ardour ``major`` (newer majors: as 9)."""
    bit = TIMER_DS_BIT.get(major, TIMER_DS_BIT[max(TIMER_DS_BIT)])
    return "1" + "0" * bit

ACTIONS = ("resonant_generate.lua", "resonant_regenerate.lua", "resonant_lock.lua")  # toolbar buttons, in order
ACTION_SLOTS = 32  # MAX_LUA_ACTION_SCRIPTS in gtk2_ardour/luainstance.h
_SLOT = re.compile(r"scripts\[(\d+)\] = \{\} ")


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def _q(s: str) -> str:
    """A Lua long string that cannot be closed early by the content."""
    level = 0
    while f"]{'=' * level}]" in s:
        level += 1
    eq = "=" * level
    return f"[{eq}[\n{s}]{eq}]"


def _chunk(source: str, entry: str) -> str:
    """A chunk that defines the script's functions and returns ``entry(args)`` (what Ardour restores a
    factory or an icon from; a no-op stands in for the ``ardour { ... }`` header)."""
    return f"local ardour = function () end\n{source}\nreturn {entry} (...)\n"


def hook_state(source: str) -> str:
    """The Lua chunk Ardour restores a hook from: ``s`` = {name, script, factory, args}.

    Ardour stores the factory as bytecode; ``load`` takes source text as well, so the factory here
    is a chunk that defines the script's functions and returns ``factory(args)`` (a no-op stands in
    for the ``ardour { ... }`` header, which only the script scanner understands).
    """
    return (f"s = {{}} s['n'] = {_q(HOOK_NAME)} s['s'] = {_q(source)} s['f'] = {_q(_chunk(source, 'factory'))} "
            "s['a'] = {} ")


def action_name(source: str) -> str:
    m = re.search(r'\bname\s*=\s*"([^"]+)"', source)
    if not m:
        raise ValueError("an action script without a name in its ardour { } header")
    return m.group(1)


def merge_actions(ui_scripts: bytes | None, sources: list[str], uri: str | None = None) -> bytes:
    """``ui_scripts`` with the action scripts bound to toolbar buttons: each in the slot it had (its code
    replaced), else in the first free one; every other button stays as the user set it.

    The state is the chunk Ardour's action manager saves (``scripts = {} scripts[N] = {} scripts[N]['n'] =
    ...``, one run of assignments per slot): it is cut at each slot's first assignment and put together
    again with the bridge's slots written anew. ``uri``: the daemon's OSC address, if not the default."""

    def args(slot: int) -> str:
        return f"scripts[{slot}]['a']['uri'] = {_q(uri)} " if uri else ""

    root = etree.fromstring(ui_scripts, etree.XMLParser(resolve_entities=False, no_network=True)) \
        if ui_scripts else etree.Element("UIScripts")
    node = root.find("ActionScript")
    state = base64.b64decode(node.text or "").decode("utf-8", "replace") if node is not None else ""
    starts = [(m.start(), int(m.group(1))) for m in _SLOT.finditer(state)]
    segments: dict[int, str] = {}
    for k, (at, slot) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(state)
        segments[slot] = state[at:end]
    names = {action_name(src): src for src in sources}
    ours = {}
    for slot, text in list(segments.items()):
        m = re.search(rf"scripts\[{slot}\]\['n'\] = \[(=*)\[\n(.*?)\]\1\]|scripts\[{slot}\]\['n'\] = \"([^\"]*)\"",
                      text, re.S)
        name = (m.group(2) if m and m.group(2) is not None else m.group(3)) if m else None
        if name in names:
            ours[name] = slot
            del segments[slot]
    for name in names:
        if name not in ours:
            free = next((i for i in range(1, ACTION_SLOTS + 1) if i not in segments and i not in ours.values()), None)
            if free is None:
                continue  # every button taken: the scripts stay in the Script Manager's list
            ours[name] = free
    for name, slot in ours.items():
        src = names[name]
        segments[slot] = (f"scripts[{slot}] = {{}} scripts[{slot}]['n'] = {_q(name)} scripts[{slot}]['s'] = {_q(src)} "
                          f"scripts[{slot}]['f'] = {_q(_chunk(src, 'factory'))} "
                          f"scripts[{slot}]['c'] = {_q(_chunk(src, 'icon')) if 'function icon' in src else _q('')} "
                          f"scripts[{slot}]['a'] = {{}} "
                          + args(slot))
    text = "scripts = {} " + "".join(segments[k] for k in sorted(segments))
    if node is None:
        node = etree.Element("ActionScript")
        root.insert(0, node)
    node.set("lua", "Lua 5.3")
    node.text = base64.b64encode(text.encode()).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


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
    buttons: list[str] = field(default_factory=list)


def install(base: Path | None = None, majors: tuple[int, ...] | None = None, register_hook: bool = True,
            buttons: bool = True, uri: str | None = None) -> Installed:
    """Copy the scripts for each Ardour major (default: those installed or configured here), register
    the inbox hook and (``buttons``) bind the actions to toolbar buttons, sending to ``uri`` (default: the
    daemon's default address)."""
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
            atomic_write(dest / lua.name, assemble(lua.name).encode(), mode=0o644)
            out.scripts.append(str(dest / lua.name))
        ui = cfg / "ui_scripts"
        if register_hook:
            atomic_write(ui, merge_hook(ui.read_bytes() if ui.is_file() else None, source, major))
            out.hooks.append(str(ui))
        if buttons:
            atomic_write(ui, merge_actions(ui.read_bytes() if ui.is_file() else None,
                                           [assemble(a) for a in ACTIONS], uri))
            out.buttons.append(str(ui))
    return out
