"""A take's recipe, and the prompt read against it.

Every take the bridge writes records how it was made (engine, style, instruments, controls, swing,
loudness, seed, prompt, key, chords, form). Regenerating starts from that recipe: an empty prompt
means "as before"; "busier", "darker", "more swing", "louder", "like the chorus" change it from
there; a style or instrument word replaces what it names. ``Effective`` is the result, with what
came from where (``decided``) and the words that were not understood (``warnings``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.engines.base import GenerationRequest
from bridge.music.prompt import Intent, parse_prompt
from bridge.music.styles import DEFAULT_STYLE, STYLES, Style
from bridge.music.theory import Key, parse_note

RECIPE_VERSION = 1
CONTROLS = ("density", "complexity", "temperature", "swing")


@dataclass
class Effective:
    intent: Intent
    style: Style
    density: float
    complexity: float
    temperature: float
    swing: float | None
    octave: int = 0
    half_time: bool = False
    loudness_db: float = 0.0  # relative to the previous take's level (or the request's target)
    base: dict[str, Any] | None = None  # the previous take's recipe this started from
    decided: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def recipe(self, plan, role: str, program: int, lufs: float) -> dict[str, Any]:
        """What to store with the take this makes, so that the next regeneration starts from it."""
        return {"version": RECIPE_VERSION, "engine": "arranger", "role": role, "style": plan.style.name,
                "program": program, "programs": dict(plan.programs), "kit": plan.kit,
                "density": round(self.density, 3), "complexity": round(self.complexity, 3),
                "temperature": round(self.temperature, 3), "swing": round(plan.swing, 3),
                "octave": self.octave, "half_time": self.half_time, "loudness_lufs": round(lufs, 2),
                "seed": plan.seed, "prompt": self.intent.text, "key": plan.key.name,
                "chords": ["/".join(c.name for c in row) for row in plan.grid],
                "first_bar": plan.first_bar, "bars": plan.bars,
                "form": [{"section": s.label, "kind": s.kind, "bars": [s.first_bar, s.last_bar]}
                         for s in plan.form.sections],
                "energy": round(plan.energy, 3)}


def _key_of(name: str | None) -> Key | None:
    try:
        tonic, mode = (name or "").split()
        return Key(parse_note(tonic), mode) if mode in ("major", "minor") else None
    except ValueError:
        return None


def _clip(x: float) -> float:
    return round(min(1.0, max(0.0, x)), 3)


def effective(request: GenerationRequest) -> Effective:
    """The request's prompt and controls, read against the previous take's recipe when there is one."""
    intent = parse_prompt(request.prompt)
    role = request.roles[0] if len(request.roles) == 1 else None
    prev = request.previous.get(role) if role else None
    base = prev.recipe if prev is not None and isinstance(getattr(prev, "recipe", None), dict) else None
    given = set(request.given)
    decided: dict[str, str] = {}
    warnings: list[str] = []
    controls = {k: getattr(request, k) for k in CONTROLS}
    octave, half_time, loudness_db = 0, False, 0.0
    if base is not None:
        if intent.style is None and base.get("style") in STYLES:
            intent.style = base["style"]
            decided["style"] = "the previous take"
        if role and role not in intent.programs and isinstance(base.get("program"), int) and role != "drums":
            intent.programs[role] = base["program"]
            decided["instrument"] = "the previous take"
        if intent.key is None and _key_of(base.get("key")) is not None:
            intent.key = _key_of(base.get("key"))  # a hint only: a confident reading of the session wins
        if intent.energy is None and isinstance(base.get("energy"), int | float):
            intent.energy = float(base["energy"])
        for k in CONTROLS:
            if k not in given and isinstance(base.get(k), int | float):
                controls[k] = float(base[k])
        octave = int(base.get("octave", 0) or 0)
        half_time = bool(base.get("half_time", False))
        if intent.empty:
            decided["prompt"] = "empty: as before"
    ch = intent.changes
    for k in ("density", "complexity", "temperature"):
        if k in ch:
            before = controls[k]
            controls[k] = _clip(before + ch[k])
            decided[k] = f"{before:.2f} -> {controls[k]:.2f} (the prompt)"
    if "swing" in ch:
        style = STYLES.get(intent.style or (base or {}).get("style") or DEFAULT_STYLE, STYLES[DEFAULT_STYLE])
        before = controls["swing"] if controls["swing"] is not None else style.swing
        controls["swing"] = _clip(before + ch["swing"])
        decided["swing"] = f"{before:.2f} -> {controls['swing']:.2f} (the prompt)"
    if "energy" in ch:
        e = intent.energy if intent.energy is not None else STYLES.get(intent.style or DEFAULT_STYLE,
                                                                     STYLES[DEFAULT_STYLE]).energy
        intent.energy = _clip(e + ch["energy"])
        decided["energy"] = f"{e:.2f} -> {intent.energy:.2f} (the prompt)"
        loudness_db += 1.5 * ch["energy"] / 0.3 if ch["energy"] > 0 else 0.0
    if "octave" in ch:
        octave = max(-2, min(2, octave + int(ch["octave"])))
        decided["octave"] = f"{octave:+d} (the prompt)"
    if "brightness" in ch:
        octave = max(-2, min(2, octave + (1 if ch["brightness"] > 0 else -1)))
        decided["register"] = ("brighter: an octave up" if ch["brightness"] > 0 else "darker: an octave down")
    if "half_time" in ch:
        half_time = ch["half_time"] > 0
        decided["feel"] = "half-time" if half_time else "double-time"
    if "loudness_db" in ch:
        loudness_db += ch["loudness_db"]
        decided["loudness"] = f"{loudness_db:+.1f} dB (the prompt)"
    if intent.like is not None and base is None:
        warnings.append(f"'like {intent.like}' needs a take to regenerate; it was not used")
    if intent.unknown:
        warnings.append("not understood: " + ", ".join(repr(w) for w in intent.unknown)
                        + " (understood words: style names, instruments, keys, tempos, busier/sparser, simpler/"
                          "more complex, more aggressive/softer, darker/brighter, higher/lower, more/less swing, "
                          "half-time/double-time, louder/quieter, like the chorus)")
    style = STYLES[intent.style] if intent.style in STYLES else STYLES[DEFAULT_STYLE]
    return Effective(intent, style, controls["density"], controls["complexity"], controls["temperature"],
                     controls["swing"], octave, half_time, loudness_db, base, decided, warnings)
