"""The bass player: a vocabulary per style, chosen per section (the verse's, the chorus's), varied
bar by bar: walking lines with approach notes, root-fifth, octaves, syncopated funk with ghost notes,
808s that follow the kick, pedal tones, driving eighths and gallops, rolling off-beats. The root is on
the downbeat of every chord change; a locked bass is never doubled or rubbed against."""

from __future__ import annotations

from bridge.music.parts.common import BASS_RANGE, NoteEvent, clamp_pitch, clamp_vel, dynamics, section_energy
from bridge.music.plan import Plan
from bridge.music.theory import Chord

BASS_LO, BASS_HI = 28, 50  # E1 .. D3

Hit = tuple[float, float, int, float]  # step, length in steps, pitch, velocity factor


def _root(chord: Chord, prev: int | None, shift: int) -> int:
    # roots between E1 and G2, near the previous one: the octave where a bass has its weight
    lo, hi = BASS_LO + 12 * shift, BASS_HI - 7 + 12 * shift
    near = prev if prev is not None else 34 + 12 * shift
    if near > 38 + 12 * shift:
        near -= 3  # lean back down, so the line does not creep up over a song
    cands = [p for p in range(lo, hi + 1) if p % 12 == chord.root]
    return min(cands, key=lambda p: (abs(p - near), p))


def _tone(root: int, chord: Chord, which: str) -> int:
    if which == "fifth":
        return root + (chord.fifth - chord.root) % 12
    if which == "third":
        return root + (chord.third - chord.root) % 12
    if which == "octave":
        return root + 12
    if which == "seventh":
        seventh = next((i for i in chord.intervals if i in (10, 11)), 10)
        return root + seventh
    return root


def _approach(target: int, scale: tuple[int, ...], rng, chromatic: bool) -> int:
    """A note leading into ``target``: a chromatic neighbour (jazz), else the scale step below/above."""
    if chromatic and rng.random() < 0.6:
        return target + rng.choice((-1, 1))
    return next((target + d for d in (-2, -1, 2, 1) if (target + d) % 12 in scale), target - 2)


def _bar(kind: str, plan: Plan, bar: int, root: int, chord: Chord, next_root: int, rng) -> list[Hit]:
    steps = plan.steps_per_bar
    scale = plan.key.scale
    fifth, octave = _tone(root, chord, "fifth"), _tone(root, chord, "octave")
    dense = plan.density
    if kind in ("long", "pedal"):
        if kind == "pedal":
            root = _root(plan.key.tonic_chord, root, plan.octave)
        return [(0, steps * 0.98, root, 0.85)]
    if kind == "root5":
        return [(0, steps / 2, root, 0.9), (steps / 2, steps / 2, fifth if rng.random() < 0.7 else octave, 0.75)]
    if kind == "two":  # jazz two-feel: half notes, root and fifth, an approach at the end
        last = _approach(next_root, scale, rng, True) if rng.random() < 0.6 else fifth
        return [(0, steps / 2 - 0.5, root, 0.9), (steps / 2, steps / 2 - 0.5, last, 0.8)]
    if kind == "walking":
        beats = max(1, steps // 4)
        line, prev = [root], root
        tones = [_tone(root, chord, w) for w in ("third", "fifth", "seventh")] + [root + 12]
        for b in range(1, beats):
            if b == beats - 1:
                p = _approach(next_root, scale, rng, True)
            else:
                options = [t for t in tones if t != prev and abs(t - prev) <= 9]
                step_opts = [prev + d for d in (-2, -1, 1, 2) if (prev + d) % 12 in scale]
                p = rng.choice(options + step_opts) if options or step_opts else prev + 2
            if p == prev:  # a walking line never sits on one note
                p += 2 if (p + 2) % 12 in scale else 1
            line.append(p)
            prev = p
        hits: list[Hit] = [(b * 4, 3.6, p, 0.88 if b % 2 == 0 else 0.8) for b, p in enumerate(line)]
        if plan.complexity > 0.5 and rng.random() < plan.complexity - 0.3:  # a skip note (swung 8th)
            b = rng.randrange(1, beats)
            hits.append((b * 4 - 2, 1.6, line[b] + rng.choice((-1, 1, 12)), 0.55))
        return hits
    if kind == "octaves":  # disco/house: root on the beat, octave on the off-beat
        return [(s, 1.6, root if s % 4 == 0 else octave, 0.9 if s % 4 == 0 else 0.75) for s in range(0, steps, 2)]
    if kind == "offbeat":
        return [(s, 1.7, root if rng.random() > 0.15 * plan.complexity else fifth, 0.85) for s in range(2, steps, 4)]
    if kind == "rolling":  # techno: off-beat plus the 16ths around it
        out = []
        for s in range(0, steps, 4):
            out += [(s + 2, 0.9, root, 0.85), (s + 3, 0.9, root if rng.random() < 0.8 else octave, 0.65)]
        return out
    if kind == "kick":  # hip hop, lo-fi: on the kicks, sustained
        hits_at = sorted({0, *(s for s in plan.kick_steps if s < steps)})
        out = []
        for i, s in enumerate(hits_at):
            end = hits_at[i + 1] if i + 1 < len(hits_at) else steps
            p = root if s == 0 or rng.random() > 0.3 * (0.5 + plan.complexity) else rng.choice([fifth, fifth, octave])
            out.append((s, max(1, end - s) * 0.92, p, 0.9 if s == 0 else 0.78))
        if dense > 0.6 and hits_at[-1] < steps - 2:
            out.append((steps - 2, 1.8, _approach(next_root, scale, rng, False), 0.7))
        return out
    if kind == "808":  # long subs on the kick pattern, an octave jump now and then
        hits_at = sorted({0, *(s for s in plan.kick_steps if s < steps)})
        out = []
        for i, s in enumerate(hits_at):
            end = hits_at[i + 1] if i + 1 < len(hits_at) else steps
            p = root if i == 0 or rng.random() > 0.35 else octave
            out.append((s, max(1, end - s) * 0.97, p, 0.95 if i == 0 else 0.85))
        return out
    if kind in ("root8", "pulse8"):  # rock: driving 8ths; the chorus version moves at the bar's end
        out = [(s, 1.7, root, 0.88 if s % 4 == 0 else 0.78) for s in range(0, steps, 2)]
        if kind == "pulse8" and rng.random() < 0.4 + 0.5 * plan.complexity:
            out[-1] = (steps - 2, 1.7, _approach(next_root, scale, rng, False), 0.8)
            out[-2] = (steps - 4, 1.7, fifth, 0.8)
        if kind == "root8" and dense < 0.45:
            out = [(s, 3.6, root, 0.88) for s in range(0, steps, 4)]
        return out
    if kind == "gallop":  # metal: 8th + two 16ths
        out = []
        for s in range(0, steps, 4):
            out += [(s, 1.7, root, 0.92), (s + 2, 0.9, root, 0.75), (s + 3, 0.9, root, 0.75)]
        return out
    if kind == "funk":  # syncopated 16ths: root on one, octave pops, ghost (dead) notes, slides to the 5th
        motif = rng.choice([[0, 3, 6, 7, 10, 14], [0, 2, 3, 6, 10, 11, 14], [0, 6, 7, 10, 12, 15],
                            [0, 3, 4, 7, 10, 13, 14]])
        keep = max(3, int(len(motif) * (0.5 + 0.6 * dense)))
        out = []
        for i, s in enumerate(motif[:keep]):
            if s == 0:
                out.append((0, 1.6, root, 1.0))
            elif rng.random() < 0.25 + 0.3 * plan.complexity:
                out.append((s, 0.4, root + rng.choice((0, 12)), 0.42))  # ghost note: short and soft
            else:
                p = rng.choice([octave, fifth, root, _tone(root, chord, "seventh")])
                out.append((s, 0.9 if i % 2 else 1.4, p, 0.82))
        return out
    if kind == "dnb":  # long notes that move inside the bar
        return [(0, steps * 0.55, root, 0.9), (steps * 0.625, steps * 0.35, rng.choice([fifth, octave, root]), 0.8)]
    return [(0, steps * 0.98, root, 0.85)]


def _density(hits: list[Hit], plan: Plan, root: int, chord: Chord, rng) -> list[Hit]:
    """Busier or sparser than the vocabulary's own line, as the request's density asks (0.5: as is):
    busier splits notes (an 8th becomes two 16ths, the second a fifth, octave or the root again),
    sparser drops the notes off the strong beats and lets the others ring."""
    d = plan.density
    steps = plan.steps_per_bar
    if d > 0.55:
        p = min(1.0, (d - 0.5) * 2.2)
        out: list[Hit] = []
        for s, ln, pitch, vf in hits:
            if ln >= 1.5 and rng.random() < p:
                half = ln / 2
                second = rng.choice([pitch, _tone(root, chord, "fifth"), _tone(root, chord, "octave")])
                out += [(s, half * 0.95, pitch, vf), (s + half, half * 0.95, second, vf * 0.82)]
            else:
                out.append((s, ln, pitch, vf))
        return out
    if d < 0.45:
        p = min(1.0, (0.5 - d) * 2.2)
        kept = [h for h in hits if abs(h[0]) < 1e-9 or abs(h[0] - steps / 2) < 1e-9 or rng.random() >= p]
        out = []
        for i, (s, ln, pitch, vf) in enumerate(kept):
            nxt = kept[i + 1][0] if i + 1 < len(kept) else steps
            out.append((s, max(ln, (nxt - s) * 0.92), pitch, vf))
        return out
    return hits


def _phrase_end(hits: list[Hit], plan: Plan, root: int, next_root: int, chord: Chord, rng) -> list[Hit]:
    """The last bar of a phrase leads into the next: its last beat becomes a pickup (two 8ths or a
    16th run stepping to the next root), and in half the phrases beat 3 is left to ring."""
    steps = plan.steps_per_bar
    scale = plan.key.scale
    keep = [h for h in hits if h[0] < steps - 4]
    if rng.random() < 0.5 and len(keep) > 1:
        keep = [h for h in keep if not steps / 2 <= h[0] < steps - 4] or keep
        keep = [(s, (steps - 4 - s) * 0.95 if s == keep[-1][0] else ln, p, vf) for s, ln, p, vf in keep]
    a = _approach(next_root, scale, rng, plan.style.name == "jazz")
    if rng.random() < 0.5:
        pickup = [(steps - 4, 1.8, _tone(root, chord, "fifth"), 0.8), (steps - 2, 1.8, a, 0.85)]
    else:
        b = a + (2 if a < next_root else -2)
        pickup = [(steps - 4, 1.8, root, 0.8), (steps - 2, 0.9, b, 0.75), (steps - 1, 0.9, a, 0.8)]
    return keep + pickup


def _clear_of_locked(plan: Plan, q: float, pitch: int) -> int:
    """Move a note that would double or rub against a sounding locked bass note (octave up)."""
    for n in plan.locked_notes:
        if n.role == "bass" and n.start <= q < n.end and (pitch - n.pitch) % 12 in (0, 1, 11):
            return pitch + 12 if abs(pitch + 12 - n.pitch) > 2 else pitch + 7
    return pitch


def write_bass(plan: Plan) -> list[NoteEvent]:
    rng = plan.rng("bass")
    verse_kind, chorus_kind = plan.style.bass
    steps = plan.steps_per_bar
    out: list[NoteEvent] = []
    prev = None
    for bar in range(plan.bars):
        sec, idx = plan.section(bar)
        level = plan.intensity(bar)
        kind = chorus_kind if level == 2 else verse_kind
        if sec.kind in ("intro", "break") and plan.style.name in ("techno", "house", "drum and bass", "trap"):
            if sec.kind == "break":
                kind = "long"
            elif idx < sec.bars // 2:
                continue  # the bass enters half way through a club intro
        if sec.kind == "outro" and idx == sec.bars - 1:
            kind = "long"
        base = bar * plan.bar_quarters
        energy = section_energy(plan, bar)
        vel = 112 * dynamics(energy)
        for half, chord in enumerate(plan.grid[bar]):
            span = steps // len(plan.grid[bar])
            lo, hi = half * span, (half + 1) * span
            root = _root(chord, prev, plan.octave)
            nxt_bar = plan.grid[bar + 1][0] if bar + 1 < plan.bars else plan.grid[0][0]
            nxt = plan.grid[bar][half + 1] if half + 1 < len(plan.grid[bar]) else nxt_bar
            next_root = _root(nxt, root, plan.octave)
            hits = _density(_bar(kind, plan, bar, root, chord, next_root, rng), plan, root, chord, rng)
            last_half = half == len(plan.grid[bar]) - 1
            if last_half and (idx % 4 == 3 or plan.first_bar + bar == sec.last_bar) and kind not in (
                    "long", "pedal", "walking", "offbeat", "rolling"):
                hits = _phrase_end(hits, plan, root, next_root, chord, rng)
            if sec.kind == "intro" and kind not in ("long", "pedal"):
                hits = [h for h in hits if h[0] % 8 == 0] or hits[:1]  # the intro: the bass states, lightly
            prev = root
            # a chord per half bar: each half takes its chord's hits that fall in it, cut at its end,
            # and a chord that changes mid-bar is played on its root where it starts
            hits = [(s, min(length, hi - s), p, vf) for s, length, p, vf in hits if lo <= s < hi]
            if half and not any(abs(s - lo) < 1e-9 for s, *_ in hits) and kind not in ("offbeat", "rolling"):
                hits.insert(0, (lo, min(4.0, hi - lo) * 0.9, root, 0.85))
            for s, length, pitch, vf in hits:
                q0 = plan.step_quarters(s)
                q1 = plan.step_quarters(min(s + length, steps)) if s + length < steps else min(
                    plan.bar_quarters, q0 + length / 4.0)
                pitch = clamp_pitch(_clear_of_locked(plan, base + q0, pitch), BASS_RANGE[0] + 12 * plan.octave,
                                    BASS_RANGE[1] + 12 * plan.octave)
                out.append(NoteEvent(base + q0, max(0.08, q1 - q0), pitch,
                                     clamp_vel(vel * vf + rng.uniform(-1, 1) * plan.style.velocity_spread * 0.6)))
    return out
