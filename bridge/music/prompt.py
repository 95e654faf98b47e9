"""What an arranger can use from a text prompt: style, mood, energy, tempo, key, instruments.

Nothing here is a language model; it is a small, predictable reading of the words musicians use.
The result records what was understood, so a caller can see why the music came out as it did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bridge.music.styles import STYLES
from bridge.music.theory import Key, parse_note

_MOODS = {
    "dark": ("minor", -0.05), "sad": ("minor", -0.2), "melancholic": ("minor", -0.2), "moody": ("minor", 0.0),
    "tense": ("minor", 0.1), "aggressive": ("minor", 0.3), "angry": ("minor", 0.3), "epic": ("minor", 0.2),
    "happy": ("major", 0.1), "uplifting": ("major", 0.15), "bright": ("major", 0.05), "joyful": ("major", 0.15),
    "hopeful": ("major", 0.0), "chill": (None, -0.25), "relaxed": (None, -0.25), "dreamy": ("major", -0.2),
    "calm": (None, -0.3), "mellow": (None, -0.25), "groovy": (None, 0.05), "driving": (None, 0.2),
}
_ENERGY = {"high energy": 0.9, "energetic": 0.85, "intense": 0.9, "hard": 0.8, "banging": 0.9,
           "low energy": 0.25, "soft": 0.3, "gentle": 0.25, "quiet": 0.2, "minimal": 0.35, "sparse": 0.3,
           "busy": 0.8, "laid back": 0.35, "laid-back": 0.35}
# instrument words -> (role, GM program)
_INSTRUMENTS = {
    "rhodes": ("harmony", 4), "electric piano": ("harmony", 4), "e-piano": ("harmony", 4), "piano": ("harmony", 0),
    "organ": ("harmony", 16), "strings": ("harmony", 48), "string": ("harmony", 48), "pad": ("harmony", 89),
    "pads": ("harmony", 89), "guitar": ("harmony", 27), "acoustic guitar": ("harmony", 25), "choir": ("harmony", 52),
    "808": ("bass", 38), "sub": ("bass", 38), "synth bass": ("bass", 38), "upright bass": ("bass", 32),
    "slap bass": ("bass", 36), "bass guitar": ("bass", 33), "flute": ("melody", 73), "sax": ("melody", 65),
    "saxophone": ("melody", 65), "trumpet": ("melody", 56), "violin": ("melody", 40), "bells": ("melody", 14),
    "bell": ("melody", 14), "vibraphone": ("melody", 11), "lead": ("melody", 81), "synth lead": ("melody", 81),
    "whistle": ("melody", 78), "music box": ("melody", 10), "marimba": ("melody", 12),
}
_TEMPO = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)\b", re.I)
# "A minor", "F# min", "Bbm", "in e flat major" (a lowercase letter only after "in"/"key of", so
# that "I am" is not A minor)
_KEY = re.compile(r"(?<![A-Za-z])([A-G])\s*(#|b|♯|♭|\s+sharp|\s+flat)?\s*((?i:major|minor|maj|min)|m)(?![A-Za-z])")
_KEY_LOWER = re.compile(r"(?i:\bin|\bkey of)\s+([a-g])\s*(#|b|\s+sharp|\s+flat)?\s*((?i:major|minor))\b")


@dataclass
class Intent:
    style: str | None = None
    mood: str | None = None
    mode: str | None = None
    energy: float | None = None
    bpm: float | None = None
    key: Key | None = None
    programs: dict[str, int] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)  # what was recognised, in order

    def understood(self) -> dict:
        return {"style": self.style, "mood": self.mood, "mode": self.mode, "energy": self.energy,
                "bpm": self.bpm, "key": self.key.name if self.key else None, "instruments": dict(self.programs),
                "recognised": list(self.words)}


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text) is not None


def parse_prompt(prompt: str) -> Intent:
    text = " ".join(prompt.lower().split())
    intent = Intent()
    # the style named first wins ("lo-fi hip hop" is lo-fi); at one place the longest name
    found = []
    for st in STYLES.values():
        for alias in (st.name, *st.aliases):
            m = re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", text)
            if m:
                found.append((m.start(), -len(alias), alias, st.name))
    if found:
        _, _, alias, name = min(found)
        intent.style = name
        intent.words.append(alias)
        text = text.replace(alias, " ")
    m = _TEMPO.search(prompt)
    if m:
        bpm = float(m.group(1))
        if 30 <= bpm <= 300:
            intent.bpm = bpm
            intent.words.append(m.group(0))
    m = _KEY.search(prompt) or _KEY_LOWER.search(prompt)
    if m:
        letter, acc, mode = m.group(1).upper(), (m.group(2) or "").strip().lower(), m.group(3).lower()
        acc = {"sharp": "#", "♯": "#", "flat": "b", "♭": "b"}.get(acc, acc)
        try:
            tonic = parse_note(letter + acc)
        except ValueError:
            tonic = None
        if tonic is not None:
            intent.key = Key(tonic, "major" if mode in ("major", "maj") else "minor")
            intent.mode = intent.key.mode
            intent.words.append(m.group(0).strip())
    for word, (mode, delta) in _MOODS.items():
        if _has(text, word):
            intent.mood = intent.mood or word
            if mode and intent.mode is None:
                intent.mode = mode
            intent.energy = (intent.energy if intent.energy is not None else 0.5) + delta
            intent.words.append(word)
    for word, level in sorted(_ENERGY.items(), key=lambda x: -len(x[0])):
        if _has(text, word):
            intent.energy = level
            intent.words.append(word)
            break
    for word, (role, program) in sorted(_INSTRUMENTS.items(), key=lambda x: -len(x[0])):
        if role not in intent.programs and _has(text, word):
            intent.programs[role] = program
            intent.words.append(word)
    if intent.energy is not None:
        intent.energy = round(min(1.0, max(0.0, intent.energy)), 2)
    return intent
