"""Guessing a track's role from its name when the session does not store one."""

from __future__ import annotations

import re

# Order matters: "bass drum" is drums, "synth bass" is bass, "lead guitar" is melody.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("drums", re.compile(r"drum|kick|snare|hat|hh|perc|cymbal|tom|clap|beat|808 ?kick|break", re.I)),
    ("bass", re.compile(r"bass|sub|808", re.I)),
    ("melody", re.compile(r"lead|melod|vox|vocal|voice|sing|solo|hook|topline|flute|sax|trumpet", re.I)),
    ("harmony", re.compile(r"harm|chord|key|piano|rhodes|organ|pad|string|guitar|gtr|synth|comp|epiano",
                           re.I)),
]


def guess_role(name: str) -> str | None:
    for role, pattern in _PATTERNS:
        if pattern.search(name):
            return role
    return None
