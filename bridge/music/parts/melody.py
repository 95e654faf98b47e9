"""The melody writer: motifs and phrases, not scale runs.

Every section kind has its motif — a rhythm cell from the style's language and a contour of scale
steps — developed over four-bar phrases: stated, answered (the same rhythm, the contour turned or
sequenced onto the next chord), stated again, and closed by a cadence (a long note on a chord tone,
the tonic at a section's end). The chorus motif is the hook: it comes back, note for note, in every
chorus. Strong beats land on chord tones; a locked melody keeps its register and its notes — the new
line never sits a semitone from a sounding locked note on a strong beat, and it answers in its rests.
"""

from __future__ import annotations

import random

from bridge.music.parts.common import NoteEvent, beat_weight, clamp_vel, dynamics, section_energy
from bridge.music.plan import Plan

Cell = list[tuple[float, float]]  # (step, length in steps) in a 16-step bar

RHYTHMS: dict[str, list[Cell]] = {
    "riff": [[(0, 1), (3, 1), (6, 1), (10, 2)], [(0, 2), (2, 1), (6, 1), (8, 1), (11, 1), (14, 2)],
             [(0, 1), (2, 1), (3, 1), (7, 1), (10, 1), (12, 2)], [(2, 1), (3, 1), (6, 2), (10, 1), (11, 1), (14, 2)]],
    "hook": [[(0, 3), (4, 2), (6, 2), (10, 4)], [(2, 2), (4, 2), (8, 4), (14, 2)], [(0, 2), (3, 3), (8, 2), (11, 5)],
             [(0, 4), (6, 2), (8, 2), (12, 4)]],
    "sparse": [[(0, 4), (6, 2), (8, 8)], [(2, 2), (4, 6), (12, 4)], [(0, 3), (3, 5), (10, 6)], [(4, 4), (10, 6)]],
    "lazy": [[(0, 6), (6, 2), (8, 8)], [(2, 4), (8, 2), (10, 6)], [(4, 4), (10, 6)], [(0, 3), (3, 3), (6, 10)]],
    "bells": [[(0, 1), (1, 1), (2, 1), (4, 2), (8, 1), (9, 1), (10, 2), (14, 2)], [(0, 2), (3, 1), (4, 2), (8, 4)],
              [(0, 1), (2, 1), (4, 1), (6, 1), (8, 2), (12, 1), (13, 1), (14, 2)]],
    "song": [[(0, 2), (2, 2), (4, 4), (8, 2), (10, 2), (12, 4)], [(0, 4), (4, 2), (6, 2), (8, 8)],
             [(2, 2), (4, 2), (6, 2), (8, 4), (12, 4)], [(0, 3), (3, 1), (4, 4), (10, 2), (12, 4)]],
    "shred": [[(0, 1), (1, 1), (2, 2), (4, 1), (5, 1), (6, 2), (8, 4), (12, 2), (14, 2)],
              [(0, 2), (2, 1), (3, 1), (4, 2), (6, 1), (7, 1), (8, 2), (10, 2), (12, 4)],
              [(0, 4), (4, 1), (5, 1), (6, 1), (7, 1), (8, 8)]],
    "funky": [[(0, 1), (3, 2), (6, 1), (7, 2), (10, 1), (12, 2)], [(2, 1), (3, 1), (6, 2), (9, 1), (10, 2), (14, 2)],
              [(0, 2), (3, 1), (4, 1), (7, 3), (11, 1), (12, 3)]],
    "bebop": [[(0, 2), (2, 2), (4, 2), (6, 2), (8, 2), (10, 2), (12, 4)], [(2, 2), (4, 2), (6, 2), (8, 6)],
              [(0, 2), (2, 2), (4, 4), (10, 2), (12, 2), (14, 2)], [(0, 6), (6, 2), (8, 2), (10, 2), (12, 4)]],
    "float": [[(0, 16)], [(0, 8), (8, 8)], [(4, 12)], [(0, 12), (12, 4)]],
    "soar": [[(0, 8), (8, 4), (12, 4)], [(0, 12), (12, 4)], [(2, 6), (8, 8)]],
    "chip": [[(0, 1), (1, 1), (2, 1), (3, 1), (4, 2), (6, 2), (8, 1), (9, 1), (10, 2), (12, 4)],
             [(0, 2), (2, 2), (4, 1), (5, 1), (6, 2), (8, 2), (10, 2), (12, 2), (14, 2)]],
    "theme": [[(0, 6), (6, 2), (8, 8)], [(0, 4), (4, 4), (8, 4), (12, 4)], [(0, 3), (3, 1), (4, 8), (12, 4)]],
}
# how a style's lines move: probability of a leap (vs a step), widest leap in scale steps
MOTION = {"riff": (0.35, 4), "hook": (0.3, 4), "sparse": (0.35, 4), "lazy": (0.3, 4), "bells": (0.4, 5),
          "song": (0.3, 4), "shred": (0.25, 5), "funky": (0.35, 4), "bebop": (0.4, 5), "float": (0.45, 4),
          "soar": (0.4, 5), "chip": (0.35, 5), "theme": (0.35, 5)}
# where each bar of a four-bar phrase starts, in scale steps from the section's home
ARCS = {"verse": (0, 1, -1, 0), "chorus": (0, 2, 3, 0), "bridge": (0, 2, 1, -1)}
# ranges by General MIDI program (written pitch of the instrument's comfortable register)
RANGES = {10: (72, 96), 11: (65, 89), 12: (65, 89), 14: (67, 91), 30: (55, 84), 40: (62, 91), 42: (48, 74),
          56: (58, 82), 65: (56, 80), 68: (62, 86), 71: (55, 84), 73: (67, 93), 78: (72, 96), 80: (60, 86),
          81: (60, 86), 88: (60, 86)}


def melody_register(plan: Plan) -> tuple[int, int]:
    """The line's range: the instrument's, an octave from the prompt, and clear of a locked melody
    (above it where there is room, else below)."""
    lo, hi = RANGES.get(plan.programs.get("melody", 81), (62, 86))
    lo, hi = lo + 12 * plan.octave, hi + 12 * plan.octave
    locked = sorted(n.pitch for n in plan.locked_notes if n.role == "melody")
    if locked:
        top, bottom = locked[int(0.9 * (len(locked) - 1))], locked[int(0.1 * (len(locked) - 1))]
        if top + 4 + 12 <= hi + 5:
            lo = max(lo, top + 3)
            hi = max(hi, lo + 16)
        elif bottom - 4 - 12 >= lo - 5:
            hi = min(hi, bottom - 3)
            lo = min(lo, hi - 16)
    return lo, min(hi, 108)


SPAN = {"riff": 3, "chip": 5, "float": 4}  # how far a motif may stray from its anchor (scale steps)


def _contour(n: int, rng: random.Random, leap_p: float, widest: int, span: int = 6) -> list[int]:
    """Scale-step offsets for ``n`` notes: steps and leaps that turn back, never a run of more than
    three steps one way (a motif is a shape, not a scale)."""
    out, pos, direction, run = [0], 0, rng.choice((-1, 1)), 0
    for _ in range(n - 1):
        if rng.random() < leap_p:
            move = rng.randint(2, widest) * direction
            direction = -direction  # a leap is answered by motion the other way
            run = 0
        else:
            if run >= 2 or rng.random() < 0.3:
                direction = -direction
                run = 0
            move = direction * (1 if rng.random() < 0.8 else 0)
            run += 1
        pos = max(-span, min(span, pos + move))
        out.append(pos)
    return out


class _Motif:
    def __init__(self, cells: list[Cell], contour: list[int]) -> None:
        self.cells, self.contour = cells, contour

    @property
    def notes(self) -> list[tuple[int, float, float, int]]:
        """(bar in the motif, step, length, scale offset) for every note."""
        out, k = [], 0
        for b, cell in enumerate(self.cells):
            for s, ln in cell:
                out.append((b, s, ln, self.contour[k % len(self.contour)]))
                k += 1
        return out


def _make_motif(plan: Plan, rng: random.Random, language: str, bars: int) -> _Motif:
    cells = RHYTHMS[language]
    chosen = [rng.choice(cells) for _ in range(bars)]
    # density (0.5: the style's own): busier lines split long notes, sparser ones drop the weak ones
    d = plan.density
    out_cells = []
    for cell in chosen:
        cell = list(cell)
        if d > 0.55:
            split = []
            for s, ln in cell:
                if ln >= 2 and rng.random() < min(1.0, (d - 0.5) * 2.2):
                    split += [(s, ln / 2), (s + ln / 2, ln / 2)]
                else:
                    split.append((s, ln))
            cell = split
        elif d < 0.45:
            p = min(1.0, (0.5 - d) * 2.2)
            cell = [(s, ln) for s, ln in cell if beat_weight(s) >= 0.7 or rng.random() >= p] or cell[:1]
        if plan.half_time:
            cell = [(s, ln * 2) for s, ln in cell if s % 4 == 0 or s < 8][:3]
        out_cells.append(cell)
    n = sum(len(c) for c in out_cells)
    leap, widest = MOTION[language]
    leap = min(0.7, leap + 0.3 * (plan.temperature - 0.5))
    return _Motif(out_cells, _contour(n, rng, leap, min(widest, SPAN.get(language, 6)), SPAN.get(language, 6)))


def _answer(m: _Motif, rng: random.Random) -> _Motif:
    """The same rhythm, the contour turned upside down or shifted: the phrase's reply."""
    if rng.random() < 0.5:
        return _Motif(m.cells, [-c for c in m.contour])
    shift = rng.choice((-2, -1, 1, 2))
    return _Motif(m.cells, [c + shift for c in m.contour])


def write_melody(plan: Plan) -> list[NoteEvent]:
    lo, hi = melody_register(plan)
    scale = set(plan.key.scale)
    pitches = [p for p in range(lo, hi + 1) if p % 12 in scale]
    language = plan.style.melody
    motifs: dict[str, _Motif] = {}
    out: list[NoteEvent] = []
    centre = pitches[len(pitches) // 2]
    locked_melody = [n for n in plan.locked_notes if n.role in ("melody", "harmony")]
    rng = plan.rng("melody")
    for bar in range(plan.bars):
        sec, idx = plan.section(bar)
        family = {"drop": "chorus", "outro": "chorus", "intro": "chorus", "build": "verse", "solo": "bridge",
                  "pre": "bridge", "break": "bridge"}.get(sec.kind, sec.kind)
        if family not in motifs:
            # one stream per motif, so the hook is the same whatever bars are being written
            mrng = random.Random(f"{plan.seed}:melody:{family}")
            motifs[family] = _make_motif(plan, mrng, language, 2 if family == "chorus" else 1)
        motif = motifs[family]
        phrase_bar = idx % 4
        # each phrase has a shape: it starts at the section's home (the chorus a little higher), rises
        # and comes back; the same bar of the same section kind always starts from the same place, so
        # a hook returns as it was
        lift = {"chorus": 2, "bridge": 1}.get(family, 0)
        arc = ARCS.get(family, ARCS["verse"])[phrase_bar] + (2 if idx // 4 % 2 == 1 and family == "bridge" else 0)
        centre = pitches[max(0, min(len(pitches) - 1, len(pitches) // 2 + lift + arc))]
        if sec.kind == "intro" and idx < sec.bars - 2:
            continue  # the intro leaves room; the hook is teased in its last two bars
        if sec.kind == "break" and idx % 2 == 1:
            continue
        base = bar * plan.bar_quarters
        energy = section_energy(plan, bar)
        vel = 108 * dynamics(energy)
        brng = random.Random(f"{plan.seed}:melody:{family}:{idx % 8}")
        m = _answer(motif, brng) if phrase_bar == 1 or (phrase_bar == 3 and len(motif.cells) == 1) else motif
        mbar = (idx % 4) % len(m.cells) if len(m.cells) > 1 else 0
        notes = [(s, ln, off) for b, s, ln, off in m.notes if b == mbar]
        cadence = phrase_bar == 3 or plan.first_bar + bar == sec.last_bar
        if cadence:
            # a cadence: the first half of the line, then a long note
            notes = [(s, ln, off) for s, ln, off in notes if s < 8] or notes[:1]
            s_last = notes[-1][0]
            notes[-1] = (s_last, plan.steps_per_bar - s_last, notes[-1][2])
        if sec.kind == "build":
            notes = [(s, ln, off + 2 * (idx // 2)) for s, ln, off in notes]  # sequenced upwards
        # the motif sits on the bar's chord: its anchor is the chord tone nearest the line's centre
        chord = plan.chord(bar, 0)
        anchor = min((p for p in pitches if p % 12 in chord.pitch_classes), key=lambda p: abs(p - centre),
                     default=centre)
        ai = pitches.index(anchor) if anchor in pitches else len(pitches) // 2
        for k, (s, ln, off) in enumerate(notes):
            q = base + plan.step_quarters(s)
            i = max(0, min(len(pitches) - 1, ai + off))
            p = pitches[i]
            ch = plan.chord(bar, s)
            strong = beat_weight(s) >= 0.7
            last = cadence and k == len(notes) - 1
            if strong or last:
                tones = [x for x in pitches if x % 12 in ch.pitch_classes]
                if last and plan.first_bar + bar == sec.last_bar and plan.key.tonic in ch.pitch_classes:
                    tones = [x for x in pitches if x % 12 == plan.key.tonic] or tones
                if tones:
                    p = min(tones, key=lambda x: (abs(x - p), x))
            dur_q = plan.step_quarters(min(s + ln, plan.steps_per_bar)) - plan.step_quarters(s) \
                if s + ln < plan.steps_per_bar else plan.bar_quarters - plan.step_quarters(s)
            sounding = [n for n in locked_melody if n.start <= q < n.end]
            if sounding:
                # the locked melody plays here: answer in its rests, and never rub against it
                if not strong and not last and rng.random() < 0.6:
                    continue
                clash = {(n.pitch + d) % 12 for n in sounding for d in (-1, 1)}
                if p % 12 in clash:
                    ok = [x for x in pitches if x % 12 in ch.pitch_classes and x % 12 not in clash]
                    ok = ok or [x for x in pitches if x % 12 not in clash]
                    p = min(ok, key=lambda x: abs(x - p)) if ok else p
            accent = 0.88 + 0.18 * beat_weight(s)
            arc = 1.0 + 0.08 * (1 - abs(phrase_bar - 1.5) / 1.5)  # a phrase swells to its middle
            out.append(NoteEvent(q, max(0.1, dur_q * (0.95 if ln >= 2 else 0.8)), p,
                                 clamp_vel(vel * accent * arc + rng.uniform(-1, 1) * plan.style.velocity_spread * 0.5),
                                 0.12))
    return out
