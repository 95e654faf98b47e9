"""Part writers, one per role. Each turns a ``Plan`` into notes (quarters from the first bar).

Drums play the style's patterns with variation, ghost notes and fills at phrase ends; the bass
plays the chord root on every downbeat and locks to the kick; harmony voices the chords with
smooth voice leading in the style's comping rhythm; the melody builds phrases from a motif, with
chord tones on the beats and scale steps between, in a register clear of the locked parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.music.plan import Plan
from bridge.music.styles import CRASH, HAT, KICK, OPEN_HAT, SNARE, TOMS
from bridge.music.theory import Chord

PHRASE = 4  # bars


@dataclass(frozen=True, slots=True)
class NoteEvent:
    start: float  # quarters from the first bar
    duration: float
    pitch: int
    velocity: int


def _clamp_vel(v: float) -> int:
    return max(1, min(127, int(round(v))))


def _in_range(pc: int, lo: int, hi: int, near: int) -> int:
    """The pitch of class ``pc`` within [lo, hi] closest to ``near``."""
    cands = [p for p in range(lo, hi + 1) if p % 12 == pc]
    return min(cands, key=lambda p: (abs(p - near), p)) if cands else lo + (pc - lo) % 12


# -- drums -------------------------------------------------------------------------------------------

def write_drums(plan: Plan) -> list[NoteEvent]:
    rng = plan.rng("drums")
    style, steps = plan.style, plan.steps_per_bar
    out: list[NoteEvent] = []
    for bar in range(plan.bars):
        base = bar * plan.bar_quarters
        phrase_end = style.fills and (bar % PHRASE == PHRASE - 1) and plan.bars >= 2
        fill_from = steps - 4 if phrase_end else steps  # the last beat becomes a fill
        for key, pattern in style.drums.items():
            for s in range(min(steps, fill_from)):
                ch = pattern[s % len(pattern)]
                if ch == ".":
                    # busier hats with density; ghost snares with complexity
                    if key == HAT and plan.density > 0.7 and s % 2 == 1 and rng.random() < plan.density - 0.5:
                        ch = "o"
                    elif key == SNARE and plan.complexity > 0.5 and rng.random() < (plan.complexity - 0.5) * 0.3:
                        ghost = _clamp_vel(30 + 15 * rng.random())
                        out.append(NoteEvent(base + plan.step_quarters(s), 0.1, SNARE, ghost))
                        continue
                    else:
                        continue
                if key in (HAT, OPEN_HAT) and plan.density < 0.3 and s % 4 != 0 and ch == "o":
                    continue  # sparse: keep hats on the beat only
                vel = (104 if ch == "x" else 68) * (0.75 + 0.35 * plan.energy)
                vel += rng.uniform(-10, 10) * (0.3 + plan.temperature)
                out.append(NoteEvent(base + plan.step_quarters(s), 0.1, key, _clamp_vel(vel)))
        if phrase_end:
            for s in range(fill_from, steps):
                if rng.random() < 0.35 + 0.5 * plan.complexity or s == fill_from:
                    drum = SNARE if rng.random() < 0.5 else TOMS[min(3, (s - fill_from) * len(TOMS) // 4)]
                    out.append(NoteEvent(base + plan.step_quarters(s), 0.1, drum, _clamp_vel(80 + 30 * rng.random())))
            if KICK in style.drums:
                out.append(NoteEvent(base + plan.step_quarters(fill_from), 0.1, KICK, 100))
        if bar % (2 * PHRASE) == 0 and bar > 0 and plan.energy > 0.4:
            out.append(NoteEvent(base, 0.1, CRASH, _clamp_vel(90 + 20 * plan.energy)))
    return sorted(out, key=lambda n: (n.start, n.pitch))


# -- bass --------------------------------------------------------------------------------------------

BASS_LO, BASS_HI = 28, 47  # E1 .. B2


def _bass_root(chord: Chord, prev: int | None) -> int:
    return _in_range(chord.root, BASS_LO, BASS_HI - 7, prev if prev is not None else 36)


def write_bass(plan: Plan) -> list[NoteEvent]:
    rng = plan.rng("bass")
    kind, steps = plan.style.bass, plan.steps_per_bar
    out: list[NoteEvent] = []
    prev = None
    scale = plan.key.scale
    vel = 88 + 20 * plan.energy
    for bar, chord in enumerate(plan.chords):
        base = bar * plan.bar_quarters
        root = _bass_root(chord, prev)
        prev = root
        fifth = root + 7 if (chord.root + 7) % 12 in scale else root + (6 if chord.quality == "dim" else 7)
        octave = root + 12 if root + 12 <= BASS_HI + 5 else root
        nxt = plan.chords[bar + 1] if bar + 1 < len(plan.chords) else plan.chords[0]
        if kind == "long":
            out.append(NoteEvent(base, plan.bar_quarters * 0.98, root, _clamp_vel(vel - 10)))
            continue
        if kind == "walking":
            beats = max(1, int(round(plan.bar_quarters)))
            tones = [root, root + (chord.pitch_classes[1] - chord.root) % 12, fifth]
            target = _bass_root(nxt, root)
            for b in range(beats):
                if b == 0:
                    p = root
                elif b == beats - 1:
                    # a scale step next to the next bar's root leads into it
                    p = next((target + d for d in (-1, -2, 1, 2) if (target + d) % 12 in scale), target)
                else:
                    p = rng.choice(tones)
                out.append(NoteEvent(base + b, 0.9, p, _clamp_vel(vel - 8 + rng.uniform(-6, 6))))
            continue
        if kind == "pulse8":
            hits = list(range(0, steps, 2))
        elif kind == "offbeat":
            hits = [0] + [s for s in range(2, steps, 4)]
        elif kind == "kick":
            hits = sorted(set([0] + [s for s in plan.kick_steps if s < steps]))
        else:  # funk
            hits = [0] + sorted(rng.sample([3, 6, 7, 10, 11, 14], k=min(6, 2 + int(4 * plan.density))))
        if plan.density < 0.3 and kind != "kick":
            hits = [h for h in hits if h % 4 == 0]
        for i, s in enumerate(hits):
            end = hits[i + 1] if i + 1 < len(hits) else steps
            length = plan.step_quarters(end) - plan.step_quarters(s)
            if kind in ("pulse8", "offbeat", "funk"):
                length = min(length, 0.45 if kind != "funk" else 0.22)
            if s == 0:
                p = root
            elif kind == "funk" and rng.random() < 0.5:
                p = rng.choice([octave, fifth])
            elif plan.complexity > 0.4 and rng.random() < plan.complexity * 0.4:
                p = rng.choice([fifth, octave])
            else:
                p = root
            if s == hits[-1] and s >= steps - 4 and plan.complexity > 0.6 and rng.random() < 0.5:
                target = _bass_root(nxt, root)
                p = next((target + d for d in (-2, -1, 2, 1) if (target + d) % 12 in scale), p)
            out.append(NoteEvent(base + plan.step_quarters(s), max(0.1, length * 0.95), p,
                                 _clamp_vel(vel - (0 if s == 0 else 10) + rng.uniform(-5, 5))))
    return out


# -- harmony -----------------------------------------------------------------------------------------

HARM_LO, HARM_HI = 52, 76


def _voicings(pcs: list[int]) -> list[list[int]]:
    """Close-position voicings of the pitch classes (every inversion, every octave in range)."""
    out = []
    n = len(pcs)
    for inv in range(n):
        order = pcs[inv:] + pcs[:inv]
        for bottom in range(HARM_LO, HARM_HI - 6):
            if bottom % 12 != order[0]:
                continue
            v = [bottom]
            for pc in order[1:]:
                nxt = v[-1] + 1
                while nxt % 12 != pc:
                    nxt += 1
                v.append(nxt)
            if v[-1] <= HARM_HI:
                out.append(v)
    return out


def _chord_pcs(plan: Plan, chord: Chord, rng) -> list[int]:
    pcs = list(chord.pitch_classes)
    if plan.style.sevenths and plan.complexity > 0.3:
        seventh = next((pc for pc in ((chord.root + 10) % 12, (chord.root + 11) % 12) if pc in plan.key.scale), None)
        if seventh is not None:
            pcs.append(seventh)
    return pcs


def voice_lead(plan: Plan) -> list[list[int]]:
    rng = plan.rng("harmony")
    prev: list[int] | None = None
    voicings = []
    for chord in plan.chords:
        cands = _voicings(_chord_pcs(plan, chord, rng))
        if prev is None:
            best = min(cands, key=lambda v: abs(sum(v) / len(v) - 64))
        else:
            center = sum(prev) / len(prev)
            best = min(cands, key=lambda v: (sum(min(abs(p - q) for q in prev) for p in v)
                                             + 0.3 * abs(sum(v) / len(v) - center), v))
        voicings.append(best)
        prev = best
    return voicings


_STAB_PATTERNS = [[0, 3, 6, 10, 12], [2, 6, 10, 14], [0, 6, 8, 14], [0, 3, 8, 11]]
_COMP_PATTERNS = [[0, 6], [3, 10], [2, 8, 14], [0, 7, 12], [4, 10]]


def write_harmony(plan: Plan) -> list[NoteEvent]:
    rng = plan.rng("harmony-rhythm")
    kind, steps = plan.style.harmony, plan.steps_per_bar
    vel = 62 + 30 * plan.energy
    out: list[NoteEvent] = []
    for bar, voicing in enumerate(voice_lead(plan)):
        base = bar * plan.bar_quarters
        chord = plan.chords[bar]
        hits: list[tuple[int, float]]  # (step, length in steps)
        if kind == "pad":
            hits = [(0, steps)] if plan.density < 0.7 else [(0, steps // 2), (steps // 2, steps // 2)]
        elif kind == "offbeat":
            hits = [(s, 1.5) for s in range(2, steps, 4)]
        elif kind == "stabs":
            hits = [(s, 1.5) for s in rng.choice(_STAB_PATTERNS) if s < steps]
        elif kind == "comp":
            hits = [(s, 3) for s in rng.choice(_COMP_PATTERNS) if s < steps]
        elif kind == "power":
            root = _in_range(chord.root, 40, 52, 45)
            for s in range(0, steps, 2):
                for p in (root, root + 7, root + 12):
                    out.append(NoteEvent(base + plan.step_quarters(s), 0.45, p, _clamp_vel(vel)))
            continue
        else:  # arp
            tones = voicing + [voicing[0] + 12]
            for s in range(steps):
                p = tones[s % len(tones)] if (s // len(tones)) % 2 == 0 else tones[-1 - s % len(tones)]
                out.append(NoteEvent(base + plan.step_quarters(s), 0.24, p, _clamp_vel(vel - 5)))
            continue
        for s, length in hits:
            dur = plan.step_quarters(min(steps, s + length)) - plan.step_quarters(s)
            for p in voicing:
                out.append(NoteEvent(base + plan.step_quarters(s), max(0.1, dur * 0.95), p,
                                     _clamp_vel(vel + rng.uniform(-6, 6))))
    return out


# -- melody ------------------------------------------------------------------------------------------

def melody_register(plan: Plan) -> tuple[int, int]:
    lo, hi = 67, 86  # G4 .. D6
    if plan.locked_pitches:
        top = max(plan.locked_pitches)
        if top >= lo - 2:
            lo = min(top + 3, 79)
            hi = lo + 19
    return lo, hi


def _motif(plan: Plan, rng) -> list[tuple[int, int]]:
    """A one-bar rhythm: (step, length in steps)."""
    steps = plan.steps_per_bar
    p = min(0.9, plan.style.melody_density * (0.6 + plan.density))
    onsets = [0] + [s for s in range(2, steps, 2) if rng.random() < p]
    if plan.complexity > 0.6:
        onsets += [s for s in range(1, steps, 2) if rng.random() < (plan.complexity - 0.6) * 0.5]
    onsets = sorted(set(onsets))
    return [(s, (onsets[i + 1] if i + 1 < len(onsets) else steps) - s) for i, s in enumerate(onsets)]


def write_melody(plan: Plan) -> list[NoteEvent]:
    rng = plan.rng("melody")
    lo, hi = melody_register(plan)
    scale = sorted(set(plan.key.scale))
    scale_pitches = [p for p in range(lo, hi + 1) if p % 12 in scale]
    motif_a, motif_b = _motif(plan, rng), _motif(plan, rng)
    out: list[NoteEvent] = []
    current = _in_range(plan.chords[0].root, lo, hi, (lo + hi) // 2)
    vel = 80 + 25 * plan.energy
    for bar, chord in enumerate(plan.chords):
        base = bar * plan.bar_quarters
        pos = bar % PHRASE
        rhythm = motif_a if pos in (0, 2) else motif_b
        if pos == PHRASE - 1:  # cadence: fewer, longer notes
            rhythm = [(s, ln) for s, ln in rhythm if s < plan.steps_per_bar // 2] or [(0, plan.steps_per_bar)]
            s_last = rhythm[-1][0]
            rhythm[-1] = (s_last, plan.steps_per_bar - s_last)
        chord_pitches = [p for p in range(lo, hi + 1) if p % 12 in chord.pitch_classes]
        for s, length in rhythm:
            on_beat = s % 4 == 0
            if on_beat or not scale_pitches:
                # chord tone near the line, wandering more with temperature
                spread = 3 + int(6 * plan.temperature)
                near = [p for p in chord_pitches if abs(p - current) <= spread] or chord_pitches
                cand = rng.choice(near)
            else:
                i = min(range(len(scale_pitches)), key=lambda k: abs(scale_pitches[k] - current))
                step = rng.choice([-1, 1, 1, -1, 2, -2] if plan.temperature > 0.5 else [-1, 1])
                cand = scale_pitches[max(0, min(len(scale_pitches) - 1, i + step))]
            current = cand
            dur = plan.step_quarters(s + length) - plan.step_quarters(s)
            accent = 8 if on_beat else 0
            out.append(NoteEvent(base + plan.step_quarters(s), max(0.12, dur * 0.92), cand,
                                 _clamp_vel(vel + accent + rng.uniform(-6, 6))))
    return out


WRITERS = {"drums": write_drums, "bass": write_bass, "harmony": write_harmony, "melody": write_melody}
