"""The drummer: the style's groove at the section's intensity (verses lighter than choruses, breaks
without kick), varied every other bar, ghost notes with complexity, snare rolls through builds, fills
at phrase ends whose length grows with the boundary (a beat inside a section, two beats or a bar
into the next one), and the crash where a section starts."""

from __future__ import annotations

from bridge.music.parts.common import NoteEvent, clamp_vel, dynamics, section_energy
from bridge.music.plan import Plan
from bridge.music.styles import (
    CLAP,
    CRASH,
    CRASH2,
    HAT,
    KICK,
    OPEN_HAT,
    RIDE,
    RIDE_BELL,
    SNARE,
    TOMS,
)

_VEL = {"x": 108, "o": 84, "g": 42}
# the pan of each kit piece in the stem, as a drummer's kit sounds from the audience
_PAN = {KICK: 0.0, SNARE: 0.05, CLAP: 0.05, HAT: 0.3, OPEN_HAT: 0.3, 44: 0.3, RIDE: -0.35, RIDE_BELL: -0.35,
        CRASH: -0.5, CRASH2: 0.5, TOMS[0]: 0.35, TOMS[1]: 0.2, TOMS[2]: 0.05, TOMS[3]: -0.1, TOMS[4]: -0.3,
        TOMS[5]: -0.4}
ELECTRONIC = {"techno", "house", "trap", "drum and bass", "chiptune"}


def _fill(plan: Plan, bar: int, base: float, from_step: int, rng) -> list[NoteEvent]:
    """A fill over the steps from ``from_step`` to the bar's end: toms down the kit, snare runs or
    (electronic styles) a snare/clap roll that speeds up."""
    steps = plan.steps_per_bar
    out = []
    n = steps - from_step
    electronic = plan.style.name in ELECTRONIC
    for i, s in enumerate(range(from_step, steps)):
        if electronic:
            # rolls: 8ths then 16ths, louder towards the end
            if n > 4 and i < n // 2 and s % 2:
                continue
            drum = SNARE if plan.style.name != "house" else CLAP
        else:
            if rng.random() > 0.55 + 0.4 * plan.complexity and i not in (0, n - 1):
                continue
            k = min(len(TOMS) - 1, i * len(TOMS) // max(1, n))
            drum = SNARE if (i < n // 3 and rng.random() < 0.6) else TOMS[k]
        vel = 70 + 40 * (i + 1) / n
        out.append(NoteEvent(base + plan.step_quarters(s), 0.1, drum, clamp_vel(vel + rng.uniform(-6, 6)),
                             _PAN.get(drum, 0.0)))
    if KICK in plan.style.grooves[2]:
        out.append(NoteEvent(base + plan.step_quarters(from_step), 0.1, KICK, 100, 0.0))
    return out


def _vary(groove: dict[int, str], plan: Plan, bar: int, rng) -> dict[int, str]:
    """Every other bar a small change a drummer makes: a pickup kick, an open hat, a displaced snare."""
    g = dict(groove)
    if bar % 2 == 1 and KICK in g and rng.random() < 0.5 + 0.4 * plan.complexity:
        k = list(g[KICK])
        spot = rng.choice([7, 11, 14, 15])
        if k[spot] == ".":
            k[spot] = "o"
        g[KICK] = "".join(k)
    if bar % 4 == 3 and HAT in g and rng.random() < 0.6:
        g[OPEN_HAT] = (g.get(OPEN_HAT, "." * 16)[:14] + "o.")[:16]
    return g


def write_drums(plan: Plan) -> list[NoteEvent]:
    rng = plan.rng("drums")
    steps = plan.steps_per_bar
    style = plan.style
    out: list[NoteEvent] = []
    total = plan.form.sections[-1].last_bar
    for bar in range(plan.bars):
        song_bar = plan.first_bar + bar
        sec, idx = plan.section(bar)
        base = bar * plan.bar_quarters
        level = plan.intensity(bar)
        energy = section_energy(plan, bar)
        groove = _vary(style.grooves[level], plan, idx, rng)
        if sec.kind == "break":
            groove.pop(KICK, None)  # a breakdown drops the kick
        if plan.half_time and SNARE in groove:
            groove[SNARE] = "." * 8 + "x" + "." * 7
        last_of_song = song_bar == total and sec.kind == "outro"
        # fills: into the next section (longer), at 4-bar phrase ends inside one (a beat, not always)
        into_next = song_bar == sec.last_bar and song_bar < total
        fill_from = steps
        if style.fills and into_next:
            fill_from = 0 if (sec.bars >= 8 and plan.complexity > 0.35) else steps // 2
            if sec.kind == "build":
                fill_from = 0
        elif style.fills and idx % 4 == 3 and sec.bars > 4 and (idx // 4) % 2 == 1:
            fill_from = steps - 4
        elif style.fills and idx % 4 == 3 and sec.bars > 4 and rng.random() < 0.3 + 0.4 * plan.complexity:
            fill_from = steps - 2
        if sec.kind == "build":
            # the build's own transition: a snare roll that doubles its rate towards the drop
            fill_from = steps
            left = sec.bars - idx
            every = 4 if left > sec.bars // 2 and left > 2 else 2 if left > 1 else 1
            drum = CLAP if style.name == "house" else SNARE
            for s in range(0, steps, every):
                rise = (idx * steps + s) / max(1, sec.bars * steps)
                out.append(NoteEvent(base + plan.step_quarters(s), 0.1, drum,
                                     clamp_vel(55 + 60 * rise + rng.uniform(-4, 4)), _PAN.get(drum, 0.0)))
        open_at = {s for s, ch in enumerate(groove.get(OPEN_HAT, "")) if ch != "."}
        for key, pattern in groove.items():
            for s in range(min(steps, fill_from)):
                ch = pattern[s % len(pattern)]
                if key == HAT and s in open_at:
                    continue  # one hi-hat: it is open or closed, not both
                if ch == ".":
                    if key == SNARE and plan.complexity > 0.55 and rng.random() < (plan.complexity - 0.5) * 0.25:
                        ch = "g"  # ghost notes with complexity
                    elif key == HAT and plan.density > 0.7 and s % 2 == 1 and rng.random() < plan.density - 0.5:
                        ch = "g"
                    else:
                        continue
                if key in (HAT, OPEN_HAT) and plan.density < 0.3 and s % 4 != 0 and ch != "x":
                    continue  # sparse: hats on the beat only
                vel = _VEL[ch] * dynamics(energy)
                vel += rng.uniform(-1, 1) * style.velocity_spread * (0.5 + plan.temperature)
                out.append(NoteEvent(base + plan.step_quarters(s), 0.1, key, clamp_vel(vel), _PAN.get(key, 0.0)))
            if last_of_song:
                break
        if fill_from < steps and not last_of_song:
            out += _fill(plan, bar, base, fill_from, rng)
        starts_section = idx == 0 and song_bar > 1
        if style.crash and (starts_section or last_of_song) and (level > 0 or last_of_song):
            out.append(NoteEvent(base, 0.1, CRASH, clamp_vel(96 + 24 * energy), _PAN[CRASH]))
            if KICK in style.grooves[2]:
                out.append(NoteEvent(base, 0.1, KICK, clamp_vel(100 + 20 * energy), 0.0))
        elif style.name == "orchestral" and starts_section:
            out.append(NoteEvent(base, 0.1, CRASH2, clamp_vel(70 + 40 * energy), _PAN[CRASH2]))
        if last_of_song:
            out = [n for n in out if not (base < n.start < base + plan.bar_quarters)]
    return sorted(out, key=lambda n: (n.start, n.pitch))
