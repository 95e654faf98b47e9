"""The arrangement plan: everything the part writers share, decided once per request.

What the locked tracks establish (tempo grid, key, chords, kick pattern) wins over the prompt;
with nothing locked, the prompt decides, and the style's defaults fill the rest. ``decided``
records where each choice came from.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bridge.music.prompt import Intent
from bridge.music.styles import DEFAULT_STYLE, KICK, STYLES, Style
from bridge.music.theory import NOTE_NAMES, Chord, Key, parse_note

# progressions as scale degrees (0 = tonic); none uses the diminished triad
_PROGRESSIONS = {
    "minor": [[0, 5, 2, 6], [0, 3, 6, 2], [0, 6, 5, 6], [0, 3, 4, 0], [0, 5, 3, 4], [0, 2, 6, 3]],
    "major": [[0, 4, 5, 3], [0, 5, 3, 4], [5, 3, 0, 4], [0, 3, 4, 3], [0, 3, 0, 4], [3, 0, 4, 5]],
}
_JAZZ = {"major": [[1, 4, 0, 5], [0, 5, 1, 4], [2, 5, 1, 4]], "minor": [[3, 6, 2, 5], [0, 3, 6, 2]]}
_DEFAULT_KEYS = {"major": Key(0, "major"), "minor": Key(9, "minor")}
_STYLE_KEYS = {"trap": Key(1, "minor"), "techno": Key(9, "minor"), "drum and bass": Key(4, "minor"),
               "rock": Key(4, "major"), "metal": Key(4, "minor"), "funk": Key(4, "minor"),
               "jazz": Key(5, "major"), "chiptune": Key(0, "major"), "orchestral": Key(2, "minor")}


def diatonic_triad(key: Key, degree: int) -> Chord:
    scale = key.scale
    root, third, fifth = scale[degree % 7], scale[(degree + 2) % 7], scale[(degree + 4) % 7]
    i3, i5 = (third - root) % 12, (fifth - root) % 12
    quality = "" if (i3, i5) == (4, 7) else "m" if (i3, i5) == (3, 7) else "dim"
    return Chord(root, quality)


def parse_chord(name: str) -> Chord:
    name = name.strip()
    if name.endswith("dim"):
        return Chord(parse_note(name[:-3]), "dim")
    if name.endswith("m"):
        return Chord(parse_note(name[:-1]), "m")
    return Chord(parse_note(name), "")


@dataclass
class Plan:
    style: Style
    key: Key
    chords: list[Chord]  # one per bar
    bars: int
    bar_quarters: float
    steps_per_bar: int  # 16ths
    swing: float
    energy: float
    density: float
    complexity: float
    temperature: float
    seed: int
    kick_steps: list[int]  # steps of a bar where the kick plays (bass locks to them)
    programs: dict[str, int]
    locked_pitches: list[int] = field(default_factory=list)  # MIDI notes of locked pitched parts
    decided: dict[str, str] = field(default_factory=dict)

    def rng(self, role: str) -> random.Random:
        # one stream per role, so that asking for more roles does not change the others
        return random.Random(f"{self.seed}:{role}")

    def step_quarters(self, step: float) -> float:
        """Where a 16th step of a bar falls, in quarters from the bar start, with swing."""
        s = int(step)
        delay = self.swing / 12.0 if s % 2 == 1 else 0.0
        return step / 4.0 + delay

    def summary(self) -> dict:
        return {"style": self.style.name, "key": self.key.name, "chords": [c.name for c in self.chords],
                "swing": round(self.swing, 3), "energy": round(self.energy, 3), "programs": dict(self.programs),
                "decided": dict(self.decided)}


def make_plan(intent: Intent, context, bars: int, bar_quarters: float, *, seed: int, density: float,
              complexity: float, temperature: float, swing: float | None, locked_drums: bool = False) -> Plan:
    """``context`` is a MusicalContext for the bars being written, or None; ``locked_drums`` says
    whether it includes a drum track, whose kicks the bass should lock to."""
    decided: dict[str, str] = {}
    style = STYLES[intent.style] if intent.style else STYLES[DEFAULT_STYLE]
    decided["style"] = "prompt" if intent.style else "default"
    rng = random.Random(f"{seed}:plan")

    key = None
    if context is not None and context.key_tonic is not None:
        key, decided["key"] = Key(context.key_tonic, context.mode), "locked tracks"
    elif intent.key is not None:
        key, decided["key"] = intent.key, "prompt"
    else:
        mode = intent.mode or style.mode
        key = _STYLE_KEYS.get(style.name) if (intent.mode is None or _STYLE_KEYS.get(style.name, Key(0, mode)).mode
                                             == mode) else None
        key = key or _DEFAULT_KEYS[mode]
        decided["key"] = "prompt mood" if intent.mode else "style default"

    locked = [parse_chord(c) if c else None for c in (context.chords if context is not None else [])]
    if locked and any(locked):
        chords = []
        last = diatonic_triad(key, 0)
        for i in range(bars):
            c = locked[i] if i < len(locked) else None
            last = c or last
            chords.append(last)
        decided["chords"] = "locked tracks"
    else:
        table = _JAZZ if style.name == "jazz" else _PROGRESSIONS
        degrees = rng.choice(table[key.mode])
        if temperature > 0.6 and rng.random() < temperature - 0.4:
            degrees = [d if rng.random() > 0.3 else rng.choice([1, 2, 3, 4, 5]) for d in degrees]
        chords = [diatonic_triad(key, degrees[i % len(degrees)]) for i in range(bars)]
        # keep the diminished triad out: it rarely sounds right as a loop chord
        chords = [c if c.quality != "dim" else diatonic_triad(key, 0) for c in chords]
        decided["chords"] = "generated (" + "-".join(c.name for c in chords[:4]) + ")"

    steps = max(4, int(round(bar_quarters * 4)))
    kick_steps = [i for i, ch in enumerate(style.drums.get(KICK, "x" + "." * 15)[:steps]) if ch != "."] or [0]
    if locked_drums and context is not None and len(context.kick_groove) == steps:
        strong = [i for i, v in enumerate(context.kick_groove) if v >= 0.6]
        if strong:
            kick_steps, decided["kick"] = strong, "locked drums"
    energy = intent.energy if intent.energy is not None else style.energy
    sw = style.swing if swing is None else swing
    decided["swing"] = "request" if swing is not None else "style"
    programs = {**style.programs, **intent.programs}
    return Plan(style, key, chords, bars, bar_quarters, steps, sw, energy, density, complexity, temperature,
                seed, kick_steps, programs, decided=decided)


def key_name(tonic: int, mode: str) -> str:
    return f"{NOTE_NAMES[tonic]} {mode}"
