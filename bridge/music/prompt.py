"""What an arranger can use from a text prompt: style, mood, energy, tempo, key, instruments, form, and
changes relative to the take being regenerated ("busier", "darker", "more swing", "like the chorus").

Nothing here is a language model; it is a small, predictable reading of the words musicians use.
The result records what was understood and which words were not, so a caller can see why the music
came out as it did and what to say instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bridge.music.form import section_kind
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
    "slap bass": ("bass", 36), "bass guitar": ("bass", 33), "fretless": ("bass", 35), "flute": ("melody", 73),
    "sax": ("melody", 65), "saxophone": ("melody", 65), "trumpet": ("melody", 56), "violin": ("melody", 40),
    "bells": ("melody", 14), "bell": ("melody", 14), "vibraphone": ("melody", 11), "vibes": ("melody", 11),
    "lead": ("melody", 81), "synth lead": ("melody", 81), "whistle": ("melody", 78), "music box": ("melody", 10),
    "marimba": ("melody", 12), "clarinet": ("melody", 71), "oboe": ("melody", 68), "cello": ("melody", 42),
}
# changes relative to the previous take: phrase -> {control: delta}. Controls: density, complexity,
# energy (0..1 deltas), octave, brightness (register/tone steps), swing (0..1), loudness_db, half_time
_RELATIVE = {
    "busier": {"density": 0.35}, "more busy": {"density": 0.35}, "more notes": {"density": 0.35},
    "denser": {"density": 0.35}, "more active": {"density": 0.3}, "fuller": {"density": 0.25},
    "sparser": {"density": -0.35}, "fewer notes": {"density": -0.35}, "less notes": {"density": -0.35},
    "less busy": {"density": -0.35}, "thinner": {"density": -0.25}, "emptier": {"density": -0.3},
    "simpler": {"complexity": -0.35, "density": -0.1}, "less complex": {"complexity": -0.35},
    "plainer": {"complexity": -0.3}, "more complex": {"complexity": 0.35}, "more intricate": {"complexity": 0.35},
    "fancier": {"complexity": 0.3}, "more interesting": {"complexity": 0.25, "temperature": 0.15},
    "more aggressive": {"energy": 0.3, "complexity": 0.1, "brightness": 1}, "harder": {"energy": 0.25},
    "punchier": {"energy": 0.2}, "heavier": {"energy": 0.25, "octave": -1},
    "softer": {"energy": -0.3, "loudness_db": -2.0}, "gentler": {"energy": -0.3}, "calmer": {"energy": -0.3},
    "less aggressive": {"energy": -0.3}, "mellower": {"energy": -0.25, "brightness": -1},
    "darker": {"brightness": -1}, "brighter": {"brightness": 1},
    "higher": {"octave": 1}, "lower": {"octave": -1}, "an octave up": {"octave": 1}, "an octave down": {"octave": -1},
    "more swing": {"swing": 0.25}, "swing more": {"swing": 0.25}, "swingier": {"swing": 0.25},
    "less swing": {"swing": -0.25}, "straighter": {"swing": -1.0}, "straight": {"swing": -1.0},
    "half-time": {"half_time": 1}, "half time": {"half_time": 1}, "halftime": {"half_time": 1},
    "double-time": {"half_time": -1}, "double time": {"half_time": -1},
    "louder": {"loudness_db": 3.0}, "quieter": {"loudness_db": -3.0},
    "wilder": {"temperature": 0.3}, "weirder": {"temperature": 0.3}, "safer": {"temperature": -0.3},
}
_TEMPO = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)\b", re.I)
# "A minor", "F# min", "Bbm", "in e flat major" (a lowercase letter only after "in"/"key of", so
# that "I am" is not A minor)
_KEY = re.compile(r"(?<![A-Za-z])([A-G])\s*(#|b|♯|♭|\s+sharp|\s+flat)?\s*((?i:major|minor|maj|min)|m)(?![A-Za-z])")
_KEY_LOWER = re.compile(r"(?i:\bin|\bkey of)\s+([a-g])\s*(#|b|\s+sharp|\s+flat)?\s*((?i:major|minor))\b")
_LIKE = re.compile(r"\blike (?:the |in the )?([a-z][a-z \-]*?\d*)(?=$|[,.;]| and | but )"
                   r"|\blike bars? (\d{1,4})\s*[-–]\s*(\d{1,4})")
# words that carry no instruction of their own
_FILLER_WORDS = """a again also an and are as at bar bars bass be beat bit break bridge build but by chord chords
chorus do down drop drum drums feel feeling for from give groove harmony in into intro is it its
just keep kind lead less let lets like little make me melody more much music my new of old on one or
our out outro over part parts please same section so some song sort sound sounding style take than
that the then these this to too track tune up us verse very vibe with your"""
_FILLER = frozenset(_FILLER_WORDS.split())


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
    text: str = ""
    changes: dict[str, float] = field(default_factory=dict)  # relative to the previous take
    like: str | tuple[int, int] | None = None  # "like the chorus" (a section kind) or bars (a, b)
    unknown: list[str] = field(default_factory=list)  # words not understood

    def understood(self) -> dict:
        return {"style": self.style, "mood": self.mood, "mode": self.mode, "energy": self.energy,
                "bpm": self.bpm, "key": self.key.name if self.key else None, "instruments": dict(self.programs),
                "changes": dict(self.changes), "like": list(self.like) if isinstance(self.like, tuple) else self.like,
                "recognised": list(self.words), "not_understood": list(self.unknown)}

    @property
    def empty(self) -> bool:
        return not self.text.strip()


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text) is not None


def _consume(text: str, phrase: str) -> str:
    return re.sub(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", " ", text)


def parse_prompt(prompt: str) -> Intent:
    text = " ".join(prompt.lower().split())
    intent = Intent(text=prompt)
    rest = text  # what no reader has used yet: its words are reported as not understood
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
        for _, _, a, _ in found:
            rest = _consume(rest, a)
        text = text.replace(alias, " ")
    m = _TEMPO.search(prompt)
    if m:
        bpm = float(m.group(1))
        if 30 <= bpm <= 300:
            intent.bpm = bpm
            intent.words.append(m.group(0))
            rest = _consume(rest, m.group(0).lower())
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
            rest = rest.replace(m.group(0).strip().lower(), " ")
    m = _LIKE.search(text)
    if m:
        if m.group(2):
            a, b = sorted((int(m.group(2)), int(m.group(3))))
            intent.like = (a, b)
        else:
            kind = section_kind(m.group(1))
            intent.like = kind
        if intent.like:
            intent.words.append(m.group(0).strip())
            rest = rest.replace(m.group(0), " ")
    # relative changes first: "more aggressive" is a change, not the mood "aggressive"
    for phrase, delta in sorted(_RELATIVE.items(), key=lambda x: -len(x[0])):
        if _has(rest, phrase):
            for k, v in delta.items():
                intent.changes[k] = round(intent.changes.get(k, 0.0) + v, 3)
            intent.words.append(phrase)
            rest = _consume(rest, phrase)
            text = _consume(text, phrase)
    for word, (mode, delta) in _MOODS.items():
        if _has(text, word):
            intent.mood = intent.mood or word
            if mode and intent.mode is None:
                intent.mode = mode
            intent.energy = (intent.energy if intent.energy is not None else 0.5) + delta
            intent.words.append(word)
            rest = _consume(rest, word)
    for word, level in sorted(_ENERGY.items(), key=lambda x: -len(x[0])):
        if _has(text, word):
            intent.energy = level
            intent.words.append(word)
            rest = _consume(rest, word)
            break
    for word, (role, program) in sorted(_INSTRUMENTS.items(), key=lambda x: -len(x[0])):
        if _has(rest, word):
            if role not in intent.programs:
                intent.programs[role] = program
                intent.words.append(word)
            rest = _consume(rest, word)
    if intent.energy is not None:
        intent.energy = round(min(1.0, max(0.0, intent.energy)), 2)
    for phrase in ("build up", "build-up", "breakdown", "pre-chorus", "at bar"):
        rest = _consume(rest, phrase)
    rest = re.sub(r"\b\d+\b", " ", rest)
    intent.unknown = [w for w in re.findall(r"[a-z][a-z'\-]*", rest) if w not in _FILLER and len(w) > 1]
    return intent
