"""The roles a track can play: the one list every part of the bridge uses (the Lua action scripts
carry a copy, which ``tests/test_layout.py`` holds equal to this one)."""

from __future__ import annotations

from typing import Literal

GENERATED = ("drums", "bass", "harmony", "melody")  # the roles an engine writes
ROLES = (*GENERATED, "other")  # and what a track may otherwise be
Role = Literal["drums", "bass", "harmony", "melody", "other"]
GeneratedRole = Literal["drums", "bass", "harmony", "melody"]
TRACK_NAMES = {r: r.capitalize() for r in GENERATED}  # the name of a new track of each role
# the colour of a new track of each role (Ardour's PresentationInfo RGBA), as the band template has them
# (daw_templates/band/make_band_template.lua): a glance at the editor tells the parts apart
COLOURS = {"drums": 0xD95B5BFF, "bass": 0xD9A05BFF, "harmony": 0x5B9BD9FF, "melody": 0x8D5BD9FF}
