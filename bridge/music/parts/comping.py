"""The harmony player: chords voiced with the smallest motion between them (inversions chosen by
voice leading, extensions by style), in comping rhythms per style and section — pads that breathe,
off-beat stabs, Charleston and anticipations for jazz and hip hop, funk scratches, power chords that
are palm-muted in the verse and ring in the chorus, arpeggios, string ostinatos. Each phrase pairs
two rhythms (A and its answer), so a part never strikes one pattern for 32 bars."""

from __future__ import annotations

from bridge.music.parts.common import NoteEvent, beat_weight, clamp_vel, dynamics, in_range, section_energy
from bridge.music.plan import Plan
from bridge.music.theory import Chord

HARM_LO, HARM_HI = 50, 79

# rhythms as (step, length in steps) per 16-step bar
_STABS = [[(0, 1.5), (3, 1.5), (6, 1.5), (10, 1.5), (12, 1.5)], [(2, 1.5), (6, 1.5), (10, 1.5), (14, 1.5)],
          [(0, 1.5), (6, 1.5), (8, 1.5), (14, 1.5)], [(0, 1.5), (3, 1.5), (8, 1.5), (11, 1.5)],
          [(3, 1.5), (6, 1.5), (11, 1.5), (14, 1.5)]]
_OFFBEAT = [[(s, 1.5) for s in (2, 6, 10, 14)], [(2, 1.5), (6, 1.5), (10, 1.5), (13, 1.0), (14, 1.5)],
            [(2, 3.0), (10, 3.0)], [(s, 1.0) for s in (2, 6, 7, 10, 14)]]
_COMP = [[(0, 3), (6, 3)], [(3, 3), (10, 4)], [(2, 2), (8, 3), (14, 2)], [(0, 6), (12, 3)], [(4, 3), (10, 3)],
         [(0, 2), (7, 5)], [(6, 3), (14, 2)]]  # Charleston, anticipations, push on the "and" of 4
_SCRATCH = [[(s, 0.5) for s in range(16) if s % 2 == 0 or s in (3, 11)],
            [(s, 0.5) for s in (0, 2, 3, 6, 8, 10, 11, 14)], [(s, 0.5) for s in (2, 4, 6, 7, 10, 12, 14, 15)]]
_PAD = [[(0, 16)], [(0, 8), (8, 8)], [(0, 12), (12, 4)], [(0, 14), (14, 2)]]


def _voicings(pcs: list[int], lo: int, hi: int) -> list[list[int]]:
    """Close-position voicings of the pitch classes, every inversion, every octave in range."""
    out = []
    n = len(pcs)
    for inv in range(n):
        order = pcs[inv:] + pcs[:inv]
        for bottom in range(lo, hi - 5):
            if bottom % 12 != order[0]:
                continue
            v = [bottom]
            for pc in order[1:]:
                nxt = v[-1] + 1
                while nxt % 12 != pc:
                    nxt += 1
                v.append(nxt)
            if v[-1] <= hi:
                out.append(v)
    return out


def _pcs(chord: Chord) -> list[int]:
    pcs = list(chord.pitch_classes)
    # five voices crowd a comping part: drop the fifth of a ninth chord
    if len(pcs) > 4:
        pcs = [p for p in pcs if p != chord.fifth]
    return pcs


def voice_lead(plan: Plan, lo: int = HARM_LO, hi: int = HARM_HI) -> list[list[list[int]]]:
    """A voicing per chord of the grid (per bar, per half), each the closest to the one before."""
    shift = 12 * plan.octave
    prev: list[int] | None = None
    out = []
    for row in plan.grid:
        bar = []
        for chord in row:
            cands = _voicings(_pcs(chord), lo + shift, hi + shift)
            if not cands:
                cands = _voicings(list(chord.triad.pitch_classes), lo + shift, hi + shift)
            if prev is None:
                best = min(cands, key=lambda v: abs(sum(v) / len(v) - 64 - shift))
            else:
                center = sum(prev) / len(prev)
                best = min(cands, key=lambda v: (sum(min(abs(p - q) for q in prev) for p in v)
                                                 + 0.3 * abs(sum(v) / len(v) - center), v))
            bar.append(best)
            prev = best
        out.append(bar)
    return out


def _vel(v: float) -> int:
    """A chord voice's velocity, in steps of 6 (under 1 dB apart): a player's hand does not hold finer
    than that, and every distinct velocity of a sustained sound is another note to render."""
    return clamp_vel(6 * round(v / 6))


def _pan(i: int, n: int) -> float:
    """Voices spread across the stereo picture, low ones a little left, high ones right."""
    return 0.0 if n <= 1 else -0.45 + 0.9 * i / (n - 1)


def _rhythms(kind: str, plan: Plan, rng) -> tuple[list, list]:
    table = {"stabs": _STABS, "offbeat": _OFFBEAT, "comp": _COMP, "scratch": _SCRATCH, "pad": _PAD}.get(kind, _PAD)
    a = rng.choice(table)
    b = rng.choice([r for r in table if r != a] or table)
    return a, b


def write_harmony(plan: Plan) -> list[NoteEvent]:
    rng = plan.rng("harmony-rhythm")
    verse_kind, chorus_kind = plan.style.comping
    steps = plan.steps_per_bar
    voicings = voice_lead(plan)
    out: list[NoteEvent] = []
    rhythms: dict[tuple[str, str], tuple[list, list]] = {}
    for bar in range(plan.bars):
        sec, idx = plan.section(bar)
        level = plan.intensity(bar)
        kind = chorus_kind if level == 2 else verse_kind
        if sec.kind == "break" or (sec.kind == "intro" and kind in ("power", "chug")):
            kind = "pad"
        base = bar * plan.bar_quarters
        energy = section_energy(plan, bar)
        vel = 100 * dynamics(energy)
        row, chords = voicings[bar], plan.grid[bar]
        span = steps / len(row)

        def voicing_at(s: float, row=row, chords=chords, span=span) -> tuple[list[int], Chord]:
            i = min(len(row) - 1, int(s / span))
            return row[i], chords[i]

        if kind in ("power", "chug"):
            # power chords on the low strings; palm-muted 8ths (chug) or ringing accents (power)
            for s in range(0, steps, 2):
                _, chord = voicing_at(s)
                root = in_range(chord.root, 40 + 12 * plan.octave, 52 + 12 * plan.octave, 45 + 12 * plan.octave)
                muted = kind == "chug" or (level < 2 and s % 4 != 0)
                length = 0.22 if muted else (1.9 if s % 8 == 0 else 0.45)
                accent = 1.0 if s % 8 == 0 else 0.85 if s % 4 == 0 else 0.72
                for i, p in enumerate((root, root + 7, root + 12)):
                    out.append(NoteEvent(base + plan.step_quarters(s), length, p,
                                         _vel(vel * accent * (0.85 if muted else 1.05)), _pan(i, 3) * 0.6))
            continue
        if kind == "arp":
            patterns = ["up", "updown", "down", "skip"]
            shape = patterns[(sec.occurrence + idx // 2) % len(patterns)]
            for s in range(steps):
                v, _ = voicing_at(s)
                tones = v + [v[0] + 12]
                n = len(tones)
                k = {"up": s % n, "down": n - 1 - s % n, "updown": (s % (2 * n - 2)) if s % (2 * n - 2) < n
                     else 2 * n - 2 - s % (2 * n - 2), "skip": (s * 2) % n}[shape]
                p = tones[min(k, n - 1)]
                out.append(NoteEvent(base + plan.step_quarters(s), 0.22, p,
                                     _vel(vel * (0.85 + 0.3 * beat_weight(s))), 0.4 * (1 if s % 2 else -1)))
            continue
        if kind == "ostinato":  # strings: 8th-note repeated chord tones, accents on the beat
            for s in range(0, steps, 2):
                v, _ = voicing_at(s)
                for i, p in enumerate(v[-2:]):
                    out.append(NoteEvent(base + plan.step_quarters(s), 0.45, p,
                                         _vel(vel * (0.8 + 0.3 * beat_weight(s))), _pan(i, 2)))
                out.append(NoteEvent(base + plan.step_quarters(s), 0.45, v[0] - 12 if v[0] - 12 >= 40 else v[0],
                                     _vel(vel * 0.7), -0.3))
            continue
        key = (sec.kind, kind)
        if key not in rhythms:
            rhythms[key] = _rhythms(kind, plan, rng)
        a, b = rhythms[key]
        pattern = a if idx % 2 == 0 else b
        if kind == "pad" and plan.density > 0.7:
            pattern = [(0, 8), (8, 8)]
        if len(row) > 1 and kind == "pad":
            pattern = [(0, span), (span, steps - span)]
        last_of_song = plan.first_bar + bar == plan.form.sections[-1].last_bar and sec.kind == "outro"
        if last_of_song:
            pattern = [(0, steps)]
        for s, length in pattern:
            if s >= steps:
                continue
            v, _ = voicing_at(s)
            end = min(steps, s + length)
            # a stab before a chord change takes the new chord only where it starts after it
            dur = plan.step_quarters(end) - plan.step_quarters(s) if end < steps else plan.bar_quarters - \
                plan.step_quarters(s)
            accent = 0.85 + 0.25 * beat_weight(s)
            # chorus pads double the top voice an octave up: fuller, brighter
            voices = v + ([v[-1] + 12] if kind == "pad" and level == 2 and v[-1] + 12 <= 91 else [])
            for i, p in enumerate(voices):
                out.append(NoteEvent(base + plan.step_quarters(s), max(0.1, dur * (0.97 if kind == "pad" else 0.9)),
                                     p, _vel(vel * accent + rng.uniform(-1, 1) * plan.style.velocity_spread),
                                     _pan(i, len(voices))))
    return out
