"""A MIDI track with an instrument, as Ardour makes it: cloned from the route Ardour itself wrote
(``daw_templates/midi/track-ardourN.xml``, made by ``scripts/make-midi-templates``), with new ids and
the new track's name, and ACE Fluid Synth's state pointing at a SoundFont.

Ardour keeps an LV2 plugin's state beside the session, in ``plugins/<processor id>/<state-dir>/``
(``state.ttl`` and ``manifest.ttl``). a-fluidsynth keeps its SoundFont there as the
``urn:ardour:a-fluidsynth:sf2file`` property: written as a file URI, Ardour 7.3 loads the SoundFont
when the session loads (it does so in the plugin's worker, so the first half second of an export that
starts at once can be silent).
"""

from __future__ import annotations

import copy
import io
from pathlib import Path

from lxml import etree

from bridge import PROJECT
from bridge.errors import InvalidInput

TEMPLATES = PROJECT / "daw_templates" / "midi"
TEMPLATE_NAME = "Part"  # the name the maker gives the track
SYNTH_URI = "urn:ardour:a-fluidsynth"
# each instrument: its LV2 URI and the suffix of its templates (track-ardourN[-suffix].xml)
SYNTHS = {"fluidsynth": (SYNTH_URI, ""), "reasonablesynth": ("https://community.ardour.org/node/7596",
                                                              "-reasonablesynth")}
# a dry synth, like the renders it stands beside (a-fluidsynth switches its reverb and chorus on)
DRY = {"rev_enable": "0", "chorus_enable": "0"}
LEVEL = (-80.0, 20.0)  # a-fluidsynth's "Output Level" port, dB
TICKS = 1920  # Ardour's ticks per quarter note (Temporal::ticks_per_beat)

_PREFIXES = """@prefix atom: <http://lv2plug.in/ns/ext/atom#> .
@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix state: <http://lv2plug.in/ns/ext/state#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def check_synth(major: int, synth: str) -> None:
    """Refuse an instrument that would play nothing in that Ardour (nothing fails silently)."""
    if synth not in SYNTHS:
        raise InvalidInput(f"no MIDI instrument {synth!r}; one of {', '.join(SYNTHS)}")
    if synth == "reasonablesynth" and major >= 9:
        # Ardour 9.8 loads the track and lists its notes, but its export of ACE Reasonable Synth is silence
        # (tests/test_midi_track.py); 7.3 and 8.12 play it
        raise InvalidInput("ACE Reasonable Synth plays nothing on a MIDI track in Ardour 9 (seen with 9.8): set"
                           ' [delivery] midi_synth = "fluidsynth" (the default) for this session')


def template(major: int, synth: str = "fluidsynth") -> etree._Element:
    check_synth(major, synth)
    path = TEMPLATES / f"track-ardour{major}{SYNTHS[synth][1]}.xml"
    if not path.is_file():
        raise InvalidInput(f"no MIDI track template for Ardour {major} ({path.name}); make it with"
                           " scripts/make-midi-templates")
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


def clone(major: int, new_id, name: str, playlist_id: str, master_name: str, order: int, colour: int,
          level_db: float = 0.0, synth: str = "fluidsynth") -> tuple[etree._Element, str | None, str | None]:
    """The template route renamed to ``name``, every id new (``new_id()`` gives one), playing
    ``playlist_id``, the synth's output level at ``level_db`` (the gain the part's render got, so the
    track plays about as loud as its audio stem); returns it with the synth's processor id and its
    state folder's name (None, None for an instrument with no state to give: Reasonable Synth)."""
    route = copy.deepcopy(template(major, synth))
    for el in route.iter():
        if el.get("id") is not None:
            el.set("id", new_id())
    route.set("name", name)
    route.set("midi-playlist", playlist_id)
    old = TEMPLATE_NAME
    for el in route.iter("IO"):
        el.set("name", name)
    for el in route.iter("Port"):
        port = el.get("name", "")
        if port.startswith(old + "/"):
            el.set("name", name + port[len(old):])
    for el in route.iter("Connection"):
        other = el.get("other", "")
        if other.startswith("Master/"):
            el.set("other", master_name + other[len("Master"):])
    for el in route.iter("Processor"):
        pname = el.get("name", "")
        for kind in ("player:", "recorder:"):
            if pname == kind + old:
                el.set("name", kind + name)
    info = route.find("PresentationInfo")
    if info is not None:
        info.set("order", str(order))
        info.set("color", str(colour))
    uri = SYNTHS[synth][0]
    proc = next((p for p in route.iter("Processor") if p.get("unique-id") == uri), None)
    if proc is None or proc.find("lv2") is None:
        raise InvalidInput(f"the MIDI track template has no {synth}")
    if synth != "fluidsynth":
        return route, None, None
    lv2 = proc.find("lv2")
    ports = {**DRY, "level": f"{max(LEVEL[0], min(LEVEL[1], float(level_db))):g}"}
    for port in lv2.iter("Port"):
        if port.get("symbol") in ports:
            port.set("value", ports[port.get("symbol")])
    lv2.set("parameter-changed-since-last-preset", "0")
    return route, proc.get("id"), lv2.get("state-dir") or lv2.get("template-dir") or "state1"


def synth_state(soundfont: Path) -> dict[str, bytes]:
    """The files of ACE Fluid Synth's state folder with ``soundfont`` loaded."""
    sf2 = Path(soundfont).resolve().as_uri()
    state = (_PREFIXES + "\n<>\n\ta pset:Preset ;\n\tlv2:appliesTo <" + SYNTH_URI + "> ;\n\tstate:state [\n\t\t<"
             + SYNTH_URI + ":sf2file> <" + sf2 + ">\n\t] .\n")
    manifest = (_PREFIXES + "\n<state.ttl>\n\tlv2:appliesTo <" + SYNTH_URI + "> ;\n\ta pset:Preset ;\n"
                "\trdfs:seeAlso <state.ttl> .\n")
    return {"state.ttl": state.encode(), "manifest.ttl": manifest.encode()}


def smf_bytes(smf: Path) -> bytes:
    data = Path(smf).read_bytes()
    if data[:4] != b"MThd":
        raise InvalidInput(f"{smf} is not a Standard MIDI File")
    return data


def smf_quarters(data: bytes) -> float:
    """How long a Standard MIDI File runs, in quarter notes (its last event, by its own division)."""
    import mido

    f = mido.MidiFile(file=io.BytesIO(data))
    if f.ticks_per_beat <= 0:
        raise InvalidInput("a MIDI file in SMPTE time cannot be placed on bars")
    return max((sum(m.time for m in t) for t in f.tracks), default=0) / f.ticks_per_beat


def playlist(new_id, name: str, source_name: str, data: bytes, start_q: float, end_q: float | None
             ) -> tuple[etree._Element, etree._Element]:
    """A MIDI source (``source_name`` in the session's midifiles) and a playlist ``name`` with one
    region playing all of it from ``start_q`` (quarters on the tempo map) at least to ``end_q``; both on
    the beat time domain, as Ardour 7+ keeps MIDI (positions and lengths in ticks, 1920 a quarter)."""
    sid, pid = new_id(), new_id()
    # "Writable", as Ardour leaves the MIDI files it imports (mark_immutable_except_write): Ardour saves
    # a user's note edits into the source file, and refuses to ("unwritable SMF file") without it
    source = etree.Element("Source", {"name": source_name, "take-id": "", "type": "midi", "flags": "Writable",
                                      "id": sid,
                                      "origin": ""})
    pl = etree.Element("Playlist", {"id": pid, "name": name, "type": "midi", "orig-track-id": "", "pgroup-id": "",
                                    "shared-with-ids": "", "frozen": "0", "combine-ops": "0"})
    length_q = max(1.0, smf_quarters(data), (end_q - start_q) if end_q is not None else 0.0)
    etree.SubElement(pl, "Region", {
        "name": f"{Path(source_name).stem}.1", "type": "midi", "start": "b0",
        "length": f"b{round(length_q * TICKS)}@b{round(start_q * TICKS)}", "sync-position": "b0",
        "layering-index": "0", "opaque": "1", "muted": "0", "id": new_id(), "source-0": sid,
        "master-source-0": sid, "channels": "1"})
    return source, pl


def route_template(major: int, name: str, master_name: str, colour: int, soundfont: Path, state_root: Path,
                   version: int, new_id, level_db: float = 0.0, synth: str = "fluidsynth"
                   ) -> tuple[bytes, dict[str, bytes]]:
    """A route template for an open session (``Session:new_route_from_template`` in the hook): the
    track as :func:`clone` makes it, its synth's state kept under ``state_root`` (absolute). Ardour
    reads a template's plugin state from ``<template-dir>/<processor id in the XML>/<state-dir>`` and
    then gives everything new ids; the state goes into the session with its next save. Returns the
    template's XML and the state files, by their paths relative to ``state_root``."""
    route, synth_id, state_dir = clone(major, new_id, name, new_id(), master_name, 0, colour, level_db, synth)
    route.set("version", str(version))
    info = route.find("PresentationInfo")
    if info is not None:  # Ardour orders the new route itself (the hook asks for the end)
        info.attrib.pop("order", None)
    if synth_id is None:
        return etree.tostring(route, xml_declaration=True, encoding="UTF-8"), {}
    lv2 = next(p for p in route.iter("Processor") if p.get("unique-id") == SYNTH_URI).find("lv2")
    lv2.set("template-dir", str(state_root))
    lv2.set("state-dir", state_dir)
    files = {f"{synth_id}/{state_dir}/{f}": body for f, body in synth_state(soundfont).items()}
    xml = etree.tostring(route, xml_declaration=True, encoding="UTF-8")
    return xml, files
