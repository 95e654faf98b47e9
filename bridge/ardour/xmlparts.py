"""Factories for the XML elements the writer adds, in the syntax of the session's version.

The attribute sets follow what Ardour 7.3 itself writes (ardour-session-format.md §8, §10,
§12): 7xxx files carry positions inside ``length="a<len>@a<pos>"``; 6000 files carry plain
sample counts with ``position`` and the AudioTime lock style.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from lxml import etree

from bridge.ardour.timeline import audio_cnt, audio_pos
from bridge.roles import COLOURS

if TYPE_CHECKING:
    from bridge.ardour.writer import SessionEditor

_REGION_FLAGS = {
    "muted": "0", "opaque": "1", "locked": "0", "video-locked": "0", "automatic": "0", "whole-file": "0",
    "import": "0", "external": "0", "sync-marked": "0", "left-of-split": "0", "right-of-split": "0",
    "hidden": "0", "position-locked": "0", "valid-transients": "0",
}


# The state Ardour 9.8 saves for a control surface switched on in its preferences (7.3 and 8.12 write
# the same keys but "config"); Ardour 9 starts a surface only from such a state.
PROTOCOL_DEFAULTS: dict[str, dict[str, str]] = {
    "Open Sound Control (OSC)": {"feedback": "0", "debugmode": "0", "address-only": "1", "remote-port": "8000",
                                 "banksize": "0", "striptypes": "31", "gainmode": "0", "send-page-size": "0",
                                 "plug-page-size": "0", "config": "Open Sound Control (OSC)"},
}


def append(parent: etree._Element, child: etree._Element) -> None:
    """Append with the indentation Ardour uses (two spaces a level), for readable diffs."""
    depth = 0
    p = parent
    while p.getparent() is not None:
        depth += 1
        p = p.getparent()
    etree.indent(child, space="  ", level=depth + 1)
    if len(parent):
        parent[-1].tail = "\n" + "  " * (depth + 1)
    else:
        parent.text = "\n" + "  " * (depth + 1)
    child.tail = "\n" + "  " * depth
    parent.append(child)


def source(sid: str, name: str, channel: int) -> etree._Element:
    # origin "" = the file lives in the session's own audiofiles folder (pitfall 6).
    return etree.Element("Source", {"name": name, "take-id": "", "type": "audio", "flags": "", "id": sid,
                                    "channel": str(channel), "origin": "", "gain": "1"})


def _times(ed: SessionEditor, position: int, start: int, length: int) -> dict[str, str]:
    tm = ed.session.tempo_map
    if ed.v7:
        pos_sc = tm.samples_to_superclock(position)
        return {"start": audio_pos(tm.samples_to_superclock(start)),
                "length": audio_cnt(tm.samples_to_superclock(length), pos_sc),
                "sync-position": audio_pos(tm.samples_to_superclock(start)),
                "ancestral-start": "a0", "ancestral-length": "a0@a0"}
    q = tm.quarters_at_samples(position)
    beat = q * tm.meter_at_quarters(q).note_value / 4.0
    return {"start": str(start), "length": str(length), "position": str(position), "beat": repr(beat),
            "sync-position": str(start), "ancestral-start": "0", "ancestral-length": "0",
            "positional-lock-style": "AudioTime"}


def _region(ed: SessionEditor, rid: str, name: str, source_ids: list[str], position: int, start: int,
            length: int, layer: int, whole_file: bool) -> etree._Element:
    attrs = {"name": name, **_REGION_FLAGS}
    if whole_file:
        attrs.update({"automatic": "1", "whole-file": "1"})
    attrs.update(_times(ed, position, start, length))
    attrs.update({"stretch": "1", "shift": "1", "layering-index": str(layer), "tags": "", "contents": "0",
                  "envelope-active": "0", "default-fade-in": "0", "default-fade-out": "0",
                  "fade-in-active": "1", "fade-out-active": "1", "scale-amplitude": "1", "id": rid,
                  "type": "audio", "first-edit": "nothing"})
    for i, sid in enumerate(source_ids):
        attrs[f"source-{i}"] = sid
    for i, sid in enumerate(source_ids):
        attrs[f"master-source-{i}"] = sid
    attrs["channels"] = str(len(source_ids))
    return etree.Element("Region", attrs)


def whole_file_region(ed: SessionEditor, rid: str, name: str, source_ids: list[str],
                      frames: int) -> etree._Element:
    """The entry of the editor's source list (§8.4); it never plays by itself."""
    return _region(ed, rid, name.rsplit(".", 1)[0], source_ids, 0, 0, frames, 0, whole_file=True)


def playlist_region(ed: SessionEditor, rid: str, name: str, source_ids: list[str], position: int,
                    frames: int, layer: int) -> etree._Element:
    r = _region(ed, rid, name, source_ids, position, 0, frames, layer, whole_file=False)
    # Ardour's own 64-sample fades with their inverse curves, so lower layers crossfade (pitfall 11).
    for tag in ("Envelope", "FadeIn", "FadeOut"):
        etree.SubElement(r, tag, {"default": "yes"})
    return r


def playlist(pid: str, name: str, track_id: str) -> etree._Element:
    return etree.Element("Playlist", {"id": pid, "name": name, "type": "audio", "orig-track-id": track_id,
                                      "pgroup-id": "", "shared-with-ids": "", "frozen": "0",
                                      "combine-ops": "0"})


def route(ed: SessionEditor, rid: str, name: str, playlist_id: str, channels: int, outputs: int,
          master_name: str, order: int, role: str | None, locked: bool) -> etree._Element:
    r = etree.Element("Route", {
        "version": str(ed.session.version), "id": rid, "name": name, "default-type": "audio",
        "strict-io": "1", "active": "1", "denormal-protection": "0", "meter-point": "MeterPostFader",
        "disk-io-point": "DiskIOPreFader", "meter-type": "MeterPeak", "audio-playlist": playlist_id,
        "saved-meter-point": "MeterPostFader", "alignment-choice": "Automatic", "mode": "Normal"})
    etree.SubElement(r, "PresentationInfo",
                     {"order": str(order), "flags": "AudioTrack,OrderSet", "color": str(COLOURS.get(role or "", 0))})
    # Track inputs stay unconnected: Ardour does not auto-connect on load, and a stem has no input.
    io_in = etree.SubElement(r, "IO", {"name": name, "id": ed.new_id(), "direction": "Input",
                                       "default-type": "audio"})
    for k in range(1, channels + 1):
        etree.SubElement(io_in, "Port", {"type": "audio", "name": f"{name}/audio_in {k}"})
    io_out = etree.SubElement(r, "IO", {"name": name, "id": ed.new_id(), "direction": "Output",
                                        "default-type": "audio"})
    for k in range(1, outputs + 1):
        port = etree.SubElement(io_out, "Port", {"type": "audio", "name": f"{name}/audio_out {k}"})
        etree.SubElement(port, "Connection", {"other": f"{master_name}/audio_in {k}"})
    # One amp processor is the minimal chain that loads without the "Amp missing" error (§10.2).
    amp = etree.SubElement(r, "Processor", {"id": ed.new_id(), "name": "Amp", "active": "1",
                                            "user-latency": "0", "use-user-latency": "0", "type": "amp"})
    etree.SubElement(amp, "Controllable", {"name": "gaincontrol", "id": ed.new_id(), "flags": "GainLike",
                                           "value": "1"})
    if role is not None or locked:
        extra = etree.SubElement(r, "Extra")
        attrs = {"locked": "1" if locked else "0"}
        if role is not None:
            attrs["role"] = role
        etree.SubElement(extra, "Resonant", attrs)
    return r


def extend_session_range(ed: SessionEditor, locations: etree._Element, end: int) -> None:
    """Create the session range, or extend it, so export and transport reach the new audio (§11)."""
    tm = ed.session.tempo_map

    def enc(samples: int) -> str:
        return audio_pos(tm.samples_to_superclock(samples)) if ed.v7 else str(samples)

    for loc in locations:
        if loc.tag == "Location" and "IsSessionRange" in loc.get("flags", ""):
            current = ed.session.session_range
            if current is None or end > current[1]:
                loc.set("end", enc(end))
            return
    attrs = {"id": ed.new_id(), "name": "session", "start": enc(0), "end": enc(end),
             "flags": "IsSessionRange", "locked": "0", "timestamp": str(int(time.time()))}
    if ed.v7:
        attrs["cue"] = "0"
    else:
        attrs["position-lock-style"] = "AudioTime"
    append(locations, etree.Element("Location", attrs))
