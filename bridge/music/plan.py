"""The arrangement plan: everything the part writers share, decided once per request.

Key: a confident reading of the session's pitched music wins over the prompt; an explicit key in the
prompt wins over a weak or missing reading; the style's default fills in. Chords: the session's own
(per half bar where they move), else a progression per section. Form: markers, prompt, style. The
plan covers the bars being written; it knows the whole song's form, so bar 9 knows it is a chorus.
``decided`` records where every choice came from, in words a musician reads.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bridge.music.form import Form, Section, choose_form
from bridge.music.harmony import chord_at, song_grid
from bridge.music.prompt import Intent
from bridge.music.styles import DEFAULT_STYLE, KICK, STYLES, Style
from bridge.music.theory import NOTE_NAMES, Chord, Key, parse_chord

_DEFAULT_KEYS = {"major": Key(0, "major"), "minor": Key(9, "minor")}
_STYLE_KEYS = {"trap": Key(1, "minor"), "techno": Key(9, "minor"), "drum and bass": Key(4, "minor"),
               "rock": Key(4, "major"), "metal": Key(4, "minor"), "funk": Key(4, "minor"),
               "jazz": Key(5, "major"), "chiptune": Key(0, "major"), "orchestral": Key(2, "minor")}
KEY_CONFIDENCE = 0.55  # a reading below this is "unknown", and the prompt or style decides


@dataclass
class LockedNote:
    start: float  # quarters from the plan's first bar
    end: float
    pitch: int
    role: str


@dataclass
class SongInfo:
    """What the session says about the song around the bars being written."""

    first_bar: int = 1  # song bar of the plan's first bar
    total_bars: int = 0  # the song's length in bars (0: just the bars being written)
    markers: list[tuple[str, int]] = field(default_factory=list)  # (name, bar) of the session's markers
    key: Key | None = None
    key_confidence: float = 0.0
    key_why: str = ""  # where the reading came from, for ``decided``
    grid: list[list[str | None]] = field(default_factory=list)  # chord names per bar (1 or 2 per bar)
    kick_groove: list[float] = field(default_factory=list)
    locked_drums: bool = False
    notes: list[LockedNote] = field(default_factory=list)  # pitched notes of the other tracks


@dataclass
class Plan:
    style: Style
    key: Key
    form: Form
    grid: list[list[Chord]]  # per bar being written: one chord, or one per half bar
    first_bar: int  # song bar number of bar index 0
    bars: int
    bar_quarters: float
    steps_per_bar: int  # 16ths
    swing: float
    energy: float
    density: float
    complexity: float
    temperature: float
    seed: int
    kick_steps: list[int]  # steps of a bar where the kick plays (the bass locks to them)
    programs: dict[str, int]
    kit: int = 0
    octave: int = 0  # register shift asked for (octaves)
    half_time: bool = False
    locked_notes: list[LockedNote] = field(default_factory=list)
    decided: dict[str, str] = field(default_factory=dict)

    @property
    def chords(self) -> list[Chord]:
        """The chord each bar starts on."""
        return [row[0] for row in self.grid]

    @property
    def locked_pitches(self) -> list[int]:
        return [n.pitch for n in self.locked_notes]

    def rng(self, role: str) -> random.Random:
        # one stream per role, so that asking for more roles does not change the others
        return random.Random(f"{self.seed}:{role}")

    def section(self, bar: int) -> tuple[Section, int]:
        """The song section of bar index ``bar`` and the bar's index inside it."""
        return self.form.position(self.first_bar + bar)

    def intensity(self, bar: int) -> int:
        """0 sparse (intro, break, outro), 1 (verse, build, bridge), 2 (chorus, drop, solo)."""
        s, _ = self.section(bar)
        return {"intro": 0, "break": 0, "outro": 0, "verse": 1, "build": 1, "bridge": 1, "pre": 1}.get(s.kind, 2)

    def chord(self, bar: int, step: float = 0.0) -> Chord:
        return chord_at(self.grid, bar, step / self.steps_per_bar)

    def step_quarters(self, step: float) -> float:
        """Where a 16th step of a bar falls, in quarters from the bar start, with the style's swing
        (every part uses this, so hats, bass, comping and melody swing alike)."""
        beat, within = divmod(step, 4.0)
        if self.swing <= 0:
            return step / 4.0
        if self.style.swing_unit == 8:
            # off-beat 8ths late: the beat splits at 1/2 + swing/6 (2:1 at full swing); 16ths between
            mid = 0.5 + self.swing / 6.0
            pos = within / 2.0 * mid if within < 2 else mid + (within - 2.0) / 2.0 * (1.0 - mid)
            return beat + pos
        # odd 16ths late by swing/12 of a quarter (a triplet 16th at full swing)
        s = int(step)
        delay = self.swing / 12.0 if s % 2 == 1 and abs(step - s) < 1e-9 else 0.0
        return step / 4.0 + delay

    def summary(self) -> dict:
        return {"style": self.style.name, "key": self.key.name,
                "chords": ["/".join(c.name for c in row) for row in self.grid],
                "form": [{"section": s.label, "kind": s.kind, "bars": [s.first_bar, s.last_bar]}
                         for s in self.form.sections],
                "swing": round(self.swing, 3), "energy": round(self.energy, 3), "programs": dict(self.programs),
                "kit": self.kit, "density": round(self.density, 3), "complexity": round(self.complexity, 3),
                "decided": dict(self.decided)}


def choose_key(intent: Intent, style: Style, song: SongInfo) -> tuple[Key, str]:
    if song.key is not None and song.key_confidence >= KEY_CONFIDENCE:
        why = f"the session's {song.key_why or 'music'} (confidence {song.key_confidence:.2f})"
        if intent.key is not None and intent.key != song.key:
            why += f"; the prompt's {intent.key.name} was not used: it would clash with the session"
        return song.key, why
    if intent.key is not None:
        if song.key is not None:
            return intent.key, (f"the prompt (the session's reading, {song.key.name}, is weak: "
                                f"confidence {song.key_confidence:.2f})")
        return intent.key, "the prompt"
    mode = intent.mode or style.mode
    key = _STYLE_KEYS.get(style.name)
    key = key if key is not None and key.mode == mode else _DEFAULT_KEYS[mode]
    if song.key is not None:
        return key, f"the {style.name} default (the session's reading is weak: {song.key_confidence:.2f})"
    return key, "the prompt's mood" if intent.mode else f"the {style.name} default"


def make_plan(intent: Intent, bars: int, bar_quarters: float, *, seed: int, density: float, complexity: float,
              temperature: float, swing: float | None, song: SongInfo | None = None) -> Plan:
    song = song or SongInfo()
    decided: dict[str, str] = {}
    style = STYLES[intent.style] if intent.style else STYLES[DEFAULT_STYLE]
    decided["style"] = "the prompt" if intent.style else "the default"
    key, decided["key"] = choose_key(intent, style, song)

    total = max(song.total_bars, song.first_bar + bars - 1)
    form = choose_form(style.name, total, song.markers, intent.text)
    decided["form"] = {"markers": "the session's markers", "prompt": "the prompt",
                       "style": f"the {style.name} default for {total} bars"}[form.source]
    generated = song_grid(form, key, style, seed=seed, complexity=complexity, temperature=temperature,
                          total_bars=total)
    grid = [generated[song.first_bar - 1 + i] for i in range(bars)]
    heard = 0
    for i, names in enumerate(song.grid[:bars]):
        chords = [parse_chord(n) if n else None for n in names]
        if any(chords):
            last = next(c for c in chords if c)
            grid[i] = [c or last for c in chords]
            heard += 1
    if heard:
        # bars the session leaves without a chord keep the one before them
        for i in range(bars):
            if i < len(song.grid) and not any(song.grid[i]) and i > 0:
                grid[i] = [grid[i - 1][-1]]
        decided["chords"] = f"the session's music ({heard} of {bars} bars heard)"
    else:
        decided["chords"] = "a progression per section"

    steps = max(4, int(round(bar_quarters * 4)))
    groove = style.grooves[1]
    kick_steps = [i for i, ch in enumerate(groove.get(KICK, "x" + "." * 15)[:steps]) if ch != "."] or [0]
    if song.locked_drums and len(song.kick_groove) == steps:
        strong = [i for i, v in enumerate(song.kick_groove) if v >= 0.6]
        if strong:
            kick_steps, decided["kick"] = strong, "the locked drums"
    energy = intent.energy if intent.energy is not None else style.energy
    sw = style.swing if swing is None else swing
    decided["swing"] = "the request" if swing is not None else f"the {style.name} feel"
    programs = {**style.programs, **intent.programs}
    return Plan(style, key, form, grid, song.first_bar, bars, bar_quarters, steps, sw, energy, density, complexity,
                temperature, seed, kick_steps, programs, kit=style.kit, locked_notes=list(song.notes),
                decided=decided)


def key_name(tonic: int, mode: str) -> str:
    return f"{NOTE_NAMES[tonic]} {mode}"


__all__ = ["Chord", "LockedNote", "Plan", "SongInfo", "choose_key", "key_name", "make_plan"]
